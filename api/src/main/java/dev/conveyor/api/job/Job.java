package dev.conveyor.api.job;

import dev.conveyor.common.JobStatus;
import java.time.Instant;
import java.util.UUID;
import tools.jackson.databind.JsonNode;

/** A job as the HTTP contract shows it, plus {@code progress}: the last progress its running attempt reported. */
public record Job(
        UUID id,
        String type,
        String queue,
        JobStatus status,
        JsonNode payload,
        JsonNode result,
        JsonNode error,
        int attempts,
        int maxAttempts,
        int timeoutSeconds,
        String idempotencyKey,
        String workerId,
        Instant createdAt,
        Instant runAt,
        Instant startedAt,
        Instant finishedAt,
        Instant updatedAt,
        JsonNode progress) {
}
