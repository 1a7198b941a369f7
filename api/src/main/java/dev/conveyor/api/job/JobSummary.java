package dev.conveyor.api.job;

import dev.conveyor.common.JobStatus;
import java.time.Instant;
import java.util.UUID;
import tools.jackson.databind.JsonNode;

/**
 * A job in a listing with {@code view=summary}: every field of {@link Job} but {@code payload} and {@code result}, the
 * two whose size its client and handler choose, for lists that show neither (the dashboard's).
 */
record JobSummary(
        UUID id,
        String type,
        String queue,
        JobStatus status,
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

    static JobSummary of(Job job) {
        return new JobSummary(job.id(), job.type(), job.queue(), job.status(), job.error(), job.attempts(),
                job.maxAttempts(), job.timeoutSeconds(), job.idempotencyKey(), job.workerId(), job.createdAt(),
                job.runAt(), job.startedAt(), job.finishedAt(), job.updatedAt(), job.progress());
    }
}
