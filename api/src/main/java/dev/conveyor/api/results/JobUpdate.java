package dev.conveyor.api.results;

import java.time.Instant;

/**
 * The change of one job's row, built up as its events are applied in order by the {@link JobLifecycle}. {@code from}
 * is the row as it was read (the update is guarded by it), {@code to} the state it moves to; for the other fields,
 * null leaves the column as it is.
 *
 * @param finishedAt    when the job ended; written only when {@code to} is terminal
 * @param result        the result (JSON text); written only when {@code to} is SUCCEEDED
 * @param error         the last failed attempt (JSON text)
 * @param progress      the progress to show (JSON text), when {@code setsProgress}: null clears it
 * @param runAt         when the next attempt is due (a retry), by the api's clock; written as as far from the
 *                      database's now, the clock that decides when a job is due
 * @param redispatch    whether the job goes back to the dispatcher (its record is spent)
 */
record JobUpdate(JobState from, JobState to, String workerId, Instant startedAt, Instant finishedAt, String result,
        String error, boolean setsProgress, String progress, Instant runAt, boolean redispatch) {

    /** No change yet. */
    static JobUpdate of(JobState state) {
        return new JobUpdate(state, state, null, null, null, null, null, false, null, null, false);
    }

    boolean changes() {
        return !from.equals(to) || workerId != null || startedAt != null || error != null || setsProgress
                || runAt != null || redispatch;
    }

    JobUpdate start(JobState next, String worker, Instant at) {
        return new JobUpdate(from, next, worker, at, null, null, error, true, null, null, false);
    }

    JobUpdate end(JobState next, Instant at, String endResult, String endError, Instant retryAt) {
        return new JobUpdate(from, next, workerId, startedAt, next.status().isTerminal() ? at : null, endResult,
                endError == null ? error : endError, setsProgress, progress, retryAt, retryAt != null);
    }

    JobUpdate progress(String json) {
        return new JobUpdate(from, to, workerId, startedAt, finishedAt, result, error, true, json, runAt,
                redispatch);
    }
}
