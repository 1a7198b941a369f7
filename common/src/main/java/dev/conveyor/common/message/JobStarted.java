package dev.conveyor.common.message;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import java.time.Instant;
import java.util.UUID;

/** A worker started an attempt. */
public record JobStarted(int v, UUID jobId, int attempt, @JsonSetter(nulls = Nulls.AS_EMPTY) int generation,
        String workerId, Instant at)
        implements JobEvent {

    /** The start of the attempt that {@code job} dispatched. */
    public static JobStarted of(JobDispatch job, String workerId, Instant at) {
        return new JobStarted(VERSION, job.jobId(), job.attempt(), job.generation(), workerId, at);
    }
}
