package dev.conveyor.common.message;

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
        int generation) {

    public static final int VERSION = 1;
}
