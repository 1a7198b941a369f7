package dev.conveyor.common.message;

import java.time.Instant;
import java.util.UUID;

/** Api to every worker on {@code conveyor.control}: do not start this job, and interrupt it if it runs. */
public record CancelJob(int v, UUID jobId, Instant at) {

    public static final int VERSION = 1;
}
