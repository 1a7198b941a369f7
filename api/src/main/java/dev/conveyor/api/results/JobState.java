package dev.conveyor.api.results;

import dev.conveyor.common.JobStatus;
import java.util.UUID;

/**
 * What the {@link JobLifecycle} needs to know of a job to decide its next state, as read under the job's row lock.
 *
 * @param attempts          attempts started so far
 * @param generation        explicit retries so far; events of another generation do not apply
 * @param maxAttempts       the budget of charged attempts
 * @param unchargedAttempts attempts handed back or lost with their worker: not charged to the budget
 * @param lostAttempts      attempts lost with a worker that died (their own budget)
 * @param cancelRequested   a cancel was asked for while the job ran: it gets no further attempt
 */
record JobState(UUID id, JobStatus status, int attempts, int generation, int maxAttempts, int unchargedAttempts,
        int lostAttempts, boolean cancelRequested) {

    /** Attempts charged to the budget. */
    int chargedAttempts() {
        return attempts - unchargedAttempts;
    }

    JobState moveTo(JobStatus next) {
        if (!status.canMoveTo(next)) {
            throw new IllegalStateException("job " + id + " may not move from " + status + " to " + next);
        }
        return new JobState(id, next, attempts, generation, maxAttempts, unchargedAttempts, lostAttempts,
                cancelRequested);
    }

    JobState started(int attempt) {
        return new JobState(id, status, attempt, generation, maxAttempts, unchargedAttempts, lostAttempts,
                cancelRequested).moveTo(JobStatus.RUNNING);
    }

    JobState uncharged(boolean lost) {
        return new JobState(id, status, attempts, generation, maxAttempts, unchargedAttempts + 1,
                lostAttempts + (lost ? 1 : 0), cancelRequested);
    }
}
