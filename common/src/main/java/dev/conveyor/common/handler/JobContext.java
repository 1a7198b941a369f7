package dev.conveyor.common.handler;

import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import tools.jackson.databind.JsonNode;

/**
 * What a handler knows about the attempt it runs. Handlers should be idempotent: the same job may run again
 * after a crash, and {@code jobId} with {@code attempt} tell the runs apart.
 */
public record JobContext(
        UUID jobId,
        String type,
        String queue,
        int attempt,
        int maxAttempts,
        JsonNode payload,
        Instant deadline) {

    /** Time left before the attempt is interrupted with {@code TIMEOUT}; never negative. */
    public Duration remaining() {
        var left = Duration.between(Instant.now(), deadline);
        return left.isNegative() ? Duration.ZERO : left;
    }
}
