package dev.conveyor.common.message;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import java.time.Instant;
import java.util.UUID;
import tools.jackson.databind.JsonNode;

/**
 * One attempt of a job, handed to the workers on {@code conveyor.jobs.<queue>} (key: job id).
 *
 * @param attempt    the number this attempt will have if it starts (attempts so far plus one); a redelivery after
 *                   a worker died adds the extra deliveries to it
 * @param generation how many times the job was explicitly retried; a cancellation covers the generations up to
 *                   its own
 * @param handBacks  how often workers gave the job back without running it since its last retry (no room for it, a
 *                   worker stopping, no handler for its type): such an attempt did not start, so it is dispatched
 *                   again under the same number, and this count tells the dispatches apart. A worker that gives the
 *                   job back echoes it ({@link JobFinished#handBacks}), and the api applies the hand-back only while
 *                   the job still has that count, so a hand-back read twice changes nothing. 0 in the records of apis
 *                   older than the field.
 */
public record JobDispatch(
        int v,
        UUID jobId,
        String type,
        String queue,
        int attempt,
        int maxAttempts,
        int timeoutSeconds,
        JsonNode payload,
        Instant dispatchedAt,
        int generation,
        @JsonSetter(nulls = Nulls.AS_EMPTY) int handBacks) {

    public static final int VERSION = 1;

    /** A dispatch of a job never given back. */
    public JobDispatch(int v, UUID jobId, String type, String queue, int attempt, int maxAttempts, int timeoutSeconds,
            JsonNode payload, Instant dispatchedAt, int generation) {
        this(v, jobId, type, queue, attempt, maxAttempts, timeoutSeconds, payload, dispatchedAt, generation, 0);
    }
}
