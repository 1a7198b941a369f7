package dev.conveyor.common.message;

import java.time.Instant;
import java.util.UUID;

/**
 * Api to every worker on {@code conveyor.control}: do not start this job, and interrupt it if it runs, for
 * dispatches of {@code generation} or earlier (a later explicit retry runs again).
 */
public record CancelJob(int v, UUID jobId, int generation, Instant at) {

    public static final int VERSION = 1;
}
