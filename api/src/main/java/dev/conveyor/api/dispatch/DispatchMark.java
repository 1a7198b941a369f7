package dev.conveyor.api.dispatch;

import java.util.UUID;

/** That a job's attempt is on Kafka, in the record at {@code partition} and {@code offset} of its queue's topic. */
record DispatchMark(UUID id, int attempts, int partition, long offset) {
}
