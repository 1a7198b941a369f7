package dev.conveyor.api.submit;

import dev.conveyor.api.job.Job;

/** What became of one submission. */
sealed interface InsertOutcome {

    /** The job is new and durable. */
    record Inserted(Job job) implements InsertOutcome {
    }

    /** The idempotency key was used before for the same request: here is that job. */
    record Replayed(Job job) implements InsertOutcome {
    }

    /** The idempotency key was used before for a different request. */
    record KeyConflict(String idempotencyKey, java.util.UUID existingId) implements InsertOutcome {
    }
}
