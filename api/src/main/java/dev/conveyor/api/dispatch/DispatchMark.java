package dev.conveyor.api.dispatch;

import java.util.UUID;

/**
 * That a job's attempt is on Kafka, in the record at {@code partition} and {@code offset} of its queue's topic; the
 * job's {@code generation} then (a retry by an operator starts a new one).
 */
record DispatchMark(UUID id, int generation, int attempts, int partition, long offset) {
}
