package dev.conveyor.client;

import java.time.Instant;
import java.util.UUID;
import tools.jackson.databind.JsonNode;

/**
 * A job as the api shows it (docs/api.md, "Job"). {@link #result(Class)} and {@link #payload(Class)} read the JSON
 * values into your own types.
 */
public record Job(
        UUID id,
        String type,
        String queue,
        JobStatus status,
        JsonNode payload,
        JsonNode result,
        JobError error,
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
        Progress progress) {

    public boolean isTerminal() {
        return status.isTerminal();
    }

    /** The handler's result read as {@code type}, or null when there is none (the job has not SUCCEEDED). */
    public <T> T result(Class<T> type) {
        return result == null || result.isNull() ? null : ClientJson.MAPPER.treeToValue(result, type);
    }

    /** The payload read as {@code type}. */
    public <T> T payload(Class<T> type) {
        return ClientJson.MAPPER.treeToValue(payload, type);
    }
}
