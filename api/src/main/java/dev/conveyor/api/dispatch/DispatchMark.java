package dev.conveyor.api.dispatch;

import java.util.UUID;

/**
 * That a job's attempt is on Kafka, in the record at {@code partition} and {@code offset} of its queue's topic; the
 * job's {@code generation} then (a retry by an operator starts a new one), and its {@code handBacks} (an attempt given
 * back unstarted is dispatched again under the same number).
 */
record DispatchMark(UUID id, int generation, int attempts, int handBacks, int partition, long offset) {

    /** A mark of a job never given back. */
    DispatchMark(UUID id, int generation, int attempts, int partition, long offset) {
        this(id, generation, attempts, 0, partition, offset);
    }
}
