package dev.conveyor.api.submit;

import dev.conveyor.api.job.Job;
import dev.conveyor.common.JobStatus;
import java.time.Instant;
import java.util.UUID;
import tools.jackson.databind.node.ObjectNode;

/** A valid submission, ready to insert; {@code payloadBytes} is its payload's size, encoded. */
record NewJob(
        UUID id,
        String tenant,
        String type,
        String queue,
        ObjectNode payload,
        int maxAttempts,
        int timeoutSeconds,
        Instant runAt,
        String idempotencyKey,
        String requestHash,
        Instant createdAt,
        int payloadBytes) {

    /** QUEUED when due at once, SCHEDULED when {@code runAt} is later. */
    JobStatus status() {
        return runAt.isAfter(createdAt) ? JobStatus.SCHEDULED : JobStatus.QUEUED;
    }

    /** The job as it stands right after the insert. */
    Job toJob() {
        return new Job(id, type, queue, status(), payload, null, null, 0, maxAttempts, timeoutSeconds,
                idempotencyKey, null, createdAt, runAt, null, null, createdAt, null);
    }
}
