package dev.conveyor.api.submit;

import dev.conveyor.api.job.Job;
import dev.conveyor.common.JobStatus;
import dev.conveyor.common.Json;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

/**
 * A valid submission, ready to insert: {@code payload} is its payload's JSON, compact, and {@code payloadBytes} its
 * size as stored. Kept as text from the request on (to the database, the answer and Kafka), never as a tree.
 * {@code createdAt} is when this api read the request, by its clock, and {@code runAt} when the job is due by the
 * same clock: the client's {@code runAt} when it gave one in the future ({@code runAtGiven}), else
 * {@code createdAt} plus its delay. The stored times are the database's ({@link JobInserts}).
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
        boolean runAtGiven,
        String idempotencyKey,
        RequestHash requestHash,
        Instant createdAt,
        int payloadBytes) {

    /** QUEUED when due at once, SCHEDULED when {@code runAt} is later. */
    JobStatus status() {
        return runAt.isAfter(createdAt) ? JobStatus.SCHEDULED : JobStatus.QUEUED;
    }

    /** The delay the job is due after once stored, unless its client gave its {@code runAt}. */
    double delaySeconds() {
        return runAtGiven ? 0 : delayMillis() / 1000.0;
    }

    private long delayMillis() {
        return Duration.between(createdAt, runAt).toMillis();
    }

    /** The job as it stands right after the insert that stored it at {@code storedAt}, by the database's clock. */
    Job toJob(Instant storedAt) {
        var due = runAtGiven ? runAt.truncatedTo(ChronoUnit.MILLIS) : storedAt.plusMillis(delayMillis());
        return new Job(id, type, queue, status(), Json.raw(payload), null, null, 0, maxAttempts, timeoutSeconds,
                idempotencyKey, null, storedAt, due, null, null, storedAt, null);
    }
}
