package dev.conveyor.api.submit;

import dev.conveyor.api.job.Job;
import dev.conveyor.common.JobStatus;
import dev.conveyor.common.Json;
import java.time.Instant;
import java.util.UUID;

/**
 * A valid submission, ready to insert: {@code payload} is its payload's JSON, compact, and {@code payloadBytes} its
 * size as stored. Kept as text from the request on (to the database, the answer and Kafka), never as a tree.
 */
record NewJob(
        UUID id,
        String tenant,
        String type,
        String queue,
        String payload,
        int maxAttempts,
        int timeoutSeconds,
        Instant runAt,
        String idempotencyKey,
        RequestHash requestHash,
        Instant createdAt,
        int payloadBytes) {

    /** QUEUED when due at once, SCHEDULED when {@code runAt} is later. */
    JobStatus status() {
        return runAt.isAfter(createdAt) ? JobStatus.SCHEDULED : JobStatus.QUEUED;
    }

    /** The job as it stands right after the insert. */
    Job toJob() {
        return new Job(id, type, queue, status(), Json.raw(payload), null, null, 0, maxAttempts, timeoutSeconds,
                idempotencyKey, null, createdAt, runAt, null, null, createdAt, null);
    }
}
