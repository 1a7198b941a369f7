package dev.conveyor.api.results;

import dev.conveyor.common.JobStatus;
import java.util.UUID;

/**
 * What the {@link JobLifecycle} needs to know of a job to decide its next state, as read under the job's row lock.
 *
 * @param attempts           attempts started so far (a job given back unstarted keeps its count: see
 *                           {@code handBacks})
 * @param generation         explicit retries so far; events of another generation do not apply
 * @param maxAttempts        the budget of charged attempts
 * @param initialMaxAttempts the budget the job was submitted with; a retry raises {@code maxAttempts} to the
 *                           attempts so far plus this
 * @param unchargedAttempts  attempts handed back or lost with their worker: not charged to the budget
 * @param lostAttempts       attempts lost with a worker that died (their own budget)
 * @param cancelRequested    a cancel was asked for while the job ran: it gets no further attempt
 * @param handBacks          how often workers gave the job back without running it since its last retry; its next
 *                           dispatch carries this count, and a hand-back applies only to the dispatch of the count
 *                           it echoes
 */
record JobState(UUID id, JobStatus status, int attempts, int generation, int maxAttempts,
        int initialMaxAttempts, int unchargedAttempts, int lostAttempts, boolean cancelRequested, int handBacks) {

    /** A job never given back unstarted. */
    JobState(UUID id, JobStatus status, int attempts, int generation, int maxAttempts, int initialMaxAttempts,
            int unchargedAttempts, int lostAttempts, boolean cancelRequested) {
        this(id, status, attempts, generation, maxAttempts, initialMaxAttempts, unchargedAttempts, lostAttempts,
                cancelRequested, 0);
    }

    /** Attempts charged to the budget. */
    int chargedAttempts() {
        return attempts - unchargedAttempts;
    }

    /**
     * Attempts charged since the job's last retry (all of them if it was never retried): what its backoff grows
     * with, so that a job retried by hand starts again from the first wait. A retry counts every attempt before it
     * as charged and raises {@code maxAttempts} by {@code initialMaxAttempts}, so those are {@code maxAttempts -
     * initialMaxAttempts}.
     */
    int chargedSinceRetry() {
        return chargedAttempts() - (maxAttempts - initialMaxAttempts);
    }

    JobState moveTo(JobStatus next) {
        if (!status.canMoveTo(next)) {
            throw new IllegalStateException("job " + id + " may not move from " + status + " to " + next);
        }
        return new JobState(id, next, attempts, generation, maxAttempts, initialMaxAttempts, unchargedAttempts,
                lostAttempts, cancelRequested, handBacks);
    }

    JobState started(int attempt) {
        return new JobState(id, status, attempt, generation, maxAttempts, initialMaxAttempts, unchargedAttempts,
                lostAttempts, cancelRequested, handBacks).moveTo(JobStatus.RUNNING);
    }

    JobState uncharged(boolean lost) {
        return new JobState(id, status, attempts, generation, maxAttempts, initialMaxAttempts, unchargedAttempts + 1,
                lostAttempts + (lost ? 1 : 0), cancelRequested, handBacks);
    }

    /** Given back by a worker that did not run it: the attempt did not start, and is dispatched again. */
    JobState givenBack() {
        return new JobState(id, status, attempts, generation, maxAttempts, initialMaxAttempts, unchargedAttempts,
                lostAttempts, cancelRequested, handBacks + 1);
    }
}
