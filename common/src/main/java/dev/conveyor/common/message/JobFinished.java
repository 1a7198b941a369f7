package dev.conveyor.common.message;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import java.time.Instant;
import java.util.UUID;
import tools.jackson.databind.JsonNode;

/**
 * An attempt ended. {@code result} is set when it succeeded, {@code error} otherwise. {@code maxAttempts} is the
 * budget the attempt was dispatched with, so the api can decide on a retry from the event alone.
 * {@code retryAfterMs}, when set, asks for at least that long before the next attempt. {@code startedAt}, when set,
 * is when the worker took the attempt: a short attempt sends no {@link JobStarted} of its own, and its end stands for
 * its start (absent in events of workers older than the field: the api then takes {@code at}). {@code handBacks},
 * when set, says that the worker gave the job back without running it (no room for it, stopping, no handler for its
 * type): the attempt did not start, and the api dispatches the same attempt again. Its value is the dispatch's
 * {@link JobDispatch#handBacks}; absent in every other end, and in those of workers older than the field (the api
 * then counts the attempt as started, as it did before).
 */
public record JobFinished(
        int v,
        UUID jobId,
        int attempt,
        @JsonSetter(nulls = Nulls.AS_EMPTY) int generation,
        int maxAttempts,
        String workerId,
        Outcome outcome,
        JsonNode result,
        JobError error,
        Long retryAfterMs,
        Instant at,
        Instant startedAt,
        @JsonInclude(JsonInclude.Include.NON_NULL) Integer handBacks) implements JobEvent {

    /** An end that says when its attempt started. */
    public JobFinished(int v, UUID jobId, int attempt, int generation, int maxAttempts, String workerId,
            Outcome outcome, JsonNode result, JobError error, Long retryAfterMs, Instant at, Instant startedAt) {
        this(v, jobId, attempt, generation, maxAttempts, workerId, outcome, result, error, retryAfterMs, at, startedAt,
                null);
    }

    /** An end that does not say when its attempt started. */
    public JobFinished(int v, UUID jobId, int attempt, int generation, int maxAttempts, String workerId,
            Outcome outcome, JsonNode result, JobError error, Long retryAfterMs, Instant at) {
        this(v, jobId, attempt, generation, maxAttempts, workerId, outcome, result, error, retryAfterMs, at, null);
    }

    /** The same end, saying when its attempt started. */
    public JobFinished withStartedAt(Instant started) {
        return new JobFinished(v, jobId, attempt, generation, maxAttempts, workerId, outcome, result, error,
                retryAfterMs, at, started, handBacks);
    }

    /** The same end, saying that the worker gave back the dispatch {@code job} without running it. */
    public JobFinished unstarted(JobDispatch job) {
        return new JobFinished(v, jobId, attempt, generation, maxAttempts, workerId, outcome, result, error,
                retryAfterMs, at, startedAt, job.handBacks());
    }

    /** Whether the worker gave the job back without running it. */
    public boolean givenBackUnstarted() {
        return handBacks != null;
    }

    /** How an attempt ended. */
    public enum Outcome { SUCCEEDED, FAILED, CANCELLED }

    public static JobFinished succeeded(JobDispatch job, int attempt, String workerId, JsonNode result, Instant at) {
        return new JobFinished(VERSION, job.jobId(), attempt, job.generation(), job.maxAttempts(), workerId,
                Outcome.SUCCEEDED, result, null, null, at);
    }

    public static JobFinished cancelled(JobDispatch job, String workerId, JobError error, Instant at) {
        return new JobFinished(VERSION, job.jobId(), job.attempt(), job.generation(), job.maxAttempts(), workerId,
                Outcome.CANCELLED, null, error, null, at);
    }

    public static JobFinished failed(JobDispatch job, int attempt, String workerId, JobError error,
            Long retryAfterMs, Instant at) {
        return new JobFinished(VERSION, job.jobId(), attempt, job.generation(), job.maxAttempts(), workerId,
                Outcome.FAILED, null, error, retryAfterMs, at);
    }
}
