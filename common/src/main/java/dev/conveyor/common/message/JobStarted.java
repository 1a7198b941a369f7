package dev.conveyor.common.message;

import java.time.Instant;
import java.util.UUID;

/** A worker started an attempt. */
public record JobStarted(int v, UUID jobId, int attempt, String workerId, Instant at) implements JobEvent {

    public JobStarted(UUID jobId, int attempt, String workerId, Instant at) {
        this(VERSION, jobId, attempt, workerId, at);
    }
}
