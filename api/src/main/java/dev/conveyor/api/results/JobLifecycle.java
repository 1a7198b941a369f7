package dev.conveyor.api.results;

import dev.conveyor.api.metrics.JobFacts;
import dev.conveyor.api.workers.LiveWorkers;
import dev.conveyor.common.JobLimits;
import dev.conveyor.common.JobStatus;
import dev.conveyor.common.Json;
import dev.conveyor.common.message.JobError;
import dev.conveyor.common.message.JobFinished;
import dev.conveyor.common.message.JobProgress;
import dev.conveyor.common.message.JobStarted;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Every decision about a job that runs, in one place: whether a worker's event applies to it, what an ended
 * attempt means (done, failed, tried again and when, cancelled), and what a lost attempt means. The SQL that
 * records events and rescues jobs only writes what is decided here, guarded by the state it was decided on; every
 * move goes through {@link JobState#moveTo}, which allows only what {@link JobStatus} allows (and the database
 * checks the same table again).
 *
 * <p>An event applies only to the job's current generation and attempt: a start only to a QUEUED job's next
 * attempt, an end or progress only to the attempt running (an end of the next attempt of a QUEUED job implies its
 * start: a short attempt sends no start of its own, and its end says when it started). So duplicates, replays and
 * stale events change nothing.
 */
@Component
class JobLifecycle {

    /**
     * Hand-backs a job may have before it fails, of each kind that can go on forever: a worker shutting down gives
     * back a running attempt (an uncharged attempt), a worker without the job's handler gives the job back unstarted.
     * Each is harmless, but a job that is handed back forever never ends. Hand-backs for want of room, or of an
     * attempt not started by a stopping worker, have no bound: the job waits in its queue until a worker takes it.
     */
    static final int MAX_HAND_BACKS = JobLimits.MAX_HAND_BACKS;

    /**
     * The longest wait before a job that a worker without its handler gave back is dispatched again: the backoff
     * grows as usual up to this, so that a rolling deploy's last workers are found within a minute of starting.
     */
    static final Duration MAX_NO_HANDLER_DELAY = Duration.ofMinutes(1);

    /** Whether a live worker takes jobs of a type from a queue; empty when that is not known now. */
    @FunctionalInterface
    interface Runners {
        Optional<Boolean> runsSomewhere(String queue, String type);
    }

    private final RetryPolicy policy;
    private final Runners runners;

    @Autowired
    JobLifecycle(RetryPolicy policy, LiveWorkers workers) {
        this(policy, workers::runsSomewhere);
    }

    JobLifecycle(RetryPolicy policy, Runners runners) {
        this.policy = policy;
        this.runners = runners;
    }

    /** Knowing nothing of the workers. */
    JobLifecycle(RetryPolicy policy) {
        this(policy, (queue, type) -> Optional.empty());
    }

    JobUpdate started(JobUpdate update, JobStarted event) {
        var state = update.to();
        if (!isNextAttempt(state, event.attempt(), event.generation())) {
            return update;
        }
        return update.start(state.started(event.attempt()), event.workerId(), event.at());
    }

    JobUpdate progressed(JobUpdate update, JobProgress event) {
        if (!isRunningAttempt(update.to(), event.attempt(), event.generation())) {
            return update;
        }
        var json = Json.object();
        json.put("fraction", event.fraction());
        json.put("message", event.message());
        json.put("at", event.at().toString());
        return update.progress(Json.write(json));
    }

    JobUpdate finished(JobUpdate update, JobFinished event, Instant now) {
        return finished(update, event, now, null);
    }

    /** An attempt ended; {@code job} says its queue and type (null: not known). */
    JobUpdate finished(JobUpdate update, JobFinished event, Instant now, JobFacts job) {
        if (event.givenBackUnstarted()) {
            // Applies only to the dispatch it names: the attempt's number is dispatched again after it, so a hand-back
            // read twice, or one of an earlier dispatch, must not end the dispatch (or the attempt) that came after.
            return isNextAttempt(update.to(), event.attempt(), event.generation())
                    && event.handBacks() == update.to().handBacks() ? givenBack(update, event, now, job) : update;
        }
        if (isNextAttempt(update.to(), event.attempt(), event.generation())) {
            var startedAt = event.startedAt() == null ? event.at() : event.startedAt();
            update = update.start(update.to().started(event.attempt()), event.workerId(), startedAt);
        }
        var state = update.to();
        if (!isRunningAttempt(state, event.attempt(), event.generation())) {
            return update;
        }
        var error = event.error() == null ? null : Json.write(event.error());
        return switch (event.outcome()) {
            case SUCCEEDED -> update.end(state.moveTo(JobStatus.SUCCEEDED), event.at(),
                    event.result() == null ? "null" : Json.write(event.result()), null, null);
            case CANCELLED -> update.end(state.moveTo(JobStatus.CANCELLED), event.at(), null, error, null);
            case FAILED -> failed(update, event, error, now, job);
        };
    }

    /** The attempt running has been lost with its worker (it crashed, or has been cut off for good). */
    JobUpdate lost(JobUpdate update, String message, Instant now) {
        var state = update.to().uncharged(true);
        var lost = state.lostAttempts();
        var error = Json.write(new JobError(JobError.WORKER_LOST, message, true));
        if (state.cancelRequested()) {
            return update.end(state.moveTo(JobStatus.CANCELLED), now, null, error, null);
        }
        if (lost >= policy.maxLostAttempts()) {
            error = Json.write(new JobError(JobError.WORKER_LOST, message + "; lost " + lost + " times, the most "
                    + "conveyor.api.retry.max-lost-attempts allows: the job may be what stops its workers", true));
            return update.end(state.moveTo(JobStatus.FAILED), now, null, error, null);
        }
        // The first loss is most likely the worker's own fault: run at once. After that the job itself is suspect,
        // and waits longer each time, so that a job that crashes its workers does not take the fleet down.
        var delay = lost == 1 ? Duration.ZERO : policy.backoff(lost - 1);
        return update.end(state.moveTo(JobStatus.SCHEDULED), now, null, error, now.plus(delay));
    }

    private JobUpdate failed(JobUpdate update, JobFinished event, String error, Instant now, JobFacts job) {
        var state = update.to();
        var failure = event.error();
        if (failure != null && JobError.NO_HANDLER.equals(failure.code()) && failure.retryable()) {
            return noHandler(update, event, now, job);
        }
        if (failure != null && JobError.WORKER_LOST.equals(failure.code())) {
            // The worker gave the job back (it is stopping): nothing failed in the job, run it again at once.
            state = state.uncharged(false);
            if (state.cancelRequested()) {
                return update.end(state.moveTo(JobStatus.CANCELLED), event.at(), null, error, null);
            }
            var handBacks = state.unchargedAttempts() - state.lostAttempts();
            return handBacks > MAX_HAND_BACKS
                    ? update.end(state.moveTo(JobStatus.FAILED), event.at(), null, error, null)
                    : update.end(state.moveTo(JobStatus.SCHEDULED), event.at(), null, error, now);
        }
        var retryable = failure != null && failure.retryable();
        if (!retryable || state.chargedAttempts() >= state.maxAttempts()) {
            return update.end(state.moveTo(JobStatus.FAILED), event.at(), null, error, null);
        }
        if (policy.waitsTooLong(event.retryAfterMs())) {
            // A server that asks to be left alone for longer than anyone would wait: say so, rather than leave the
            // job waiting for a date nobody will see.
            var refused = Json.write(new JobError(failure.code(), failure.message() + "; it asked to wait "
                    + java.time.Duration.ofMillis(event.retryAfterMs()) + " before the next attempt, longer than "
                    + "conveyor.api.retry.max-retry-after allows, so it is not retried", false));
            return update.end(state.moveTo(JobStatus.FAILED), event.at(), null, refused, null);
        }
        if (state.cancelRequested()) {
            return update.end(state.moveTo(JobStatus.CANCELLED), event.at(), null, error, null);
        }
        return update.end(state.moveTo(JobStatus.SCHEDULED), event.at(), null, error,
                now.plus(policy.delay(state.chargedSinceRetry(), event.retryAfterMs())));
    }

    /**
     * A worker gave the job back without running it: it had no room for it, was stopping, or has no handler for its
     * type. The attempt did not start, so the job keeps its attempts and the same attempt is dispatched again, under
     * one more hand-back. Nothing failed, so the job's {@code error} stays as it was, but for a missing handler, which
     * says why the job waits (or fails). A job given back for want of room or by a stopping worker waits in its queue
     * again, as long as it takes: only a worker that takes it ends it. One that no live worker of its queue has a
     * handler for fails, as one given back by workers without its handler more than {@link #MAX_HAND_BACKS} times.
     */
    private JobUpdate givenBack(JobUpdate update, JobFinished event, Instant now, JobFacts job) {
        var state = update.to().givenBack();
        if (state.cancelRequested()) {
            return update.end(state.moveTo(JobStatus.CANCELLED), event.at(), null, null, null);
        }
        var failure = event.error();
        if (failure == null || !JobError.NO_HANDLER.equals(failure.code())) {
            return update.end(state.moveTo(JobStatus.SCHEDULED), event.at(), null, null, now);
        }
        var said = failure.message();
        var runs = job == null ? Optional.<Boolean>empty() : runners.runsSomewhere(job.queue(), job.type());
        if (runs.isPresent() && !runs.get()) {
            var error = new JobError(JobError.NO_HANDLER, "no live worker of queue '" + job.queue()
                    + "' has a handler for job type '" + job.type() + "' (" + said + ")", false);
            return update.end(state.moveTo(JobStatus.FAILED), event.at(), null, Json.write(error), null);
        }
        if (state.handBacks() > MAX_HAND_BACKS) {
            var error = new JobError(JobError.NO_HANDLER, said + "; given back " + state.handBacks() + " times by "
                    + "workers without its handler, the most a job may be", false);
            return update.end(state.moveTo(JobStatus.FAILED), event.at(), null, Json.write(error), null);
        }
        return update.end(state.moveTo(JobStatus.SCHEDULED), event.at(), null,
                Json.write(waitsForHandler(said, job, runs)), now.plus(noHandlerDelay(state.handBacks())));
    }

    /**
     * The worker that took the job has no handler for its type and gave it back. If no live worker of its queue has
     * one either, it fails for good, as it would wait forever; if one does (a rolling deploy under way, workers of
     * a queue running different handlers), or the api cannot tell (its heartbeats not read up to date), it runs
     * again after the backoff (at most {@link #MAX_NO_HANDLER_DELAY}), not charged to {@code maxAttempts}, as a
     * hand-back, and like those at most {@link #MAX_HAND_BACKS} times.
     */
    private JobUpdate noHandler(JobUpdate update, JobFinished event, Instant now, JobFacts job) {
        var said = event.error().message();
        if (update.to().cancelRequested()) {
            return update.end(update.to().moveTo(JobStatus.CANCELLED), event.at(), null, Json.write(event.error()),
                    null);
        }
        var runs = job == null ? Optional.<Boolean>empty() : runners.runsSomewhere(job.queue(), job.type());
        if (runs.isPresent() && !runs.get()) {
            var error = new JobError(JobError.NO_HANDLER, "no live worker of queue '" + job.queue()
                    + "' has a handler for job type '" + job.type() + "' (" + said + ")", false);
            return update.end(update.to().moveTo(JobStatus.FAILED), event.at(), null, Json.write(error), null);
        }
        var state = update.to().uncharged(false);
        var handBacks = state.unchargedAttempts() - state.lostAttempts();
        if (handBacks > MAX_HAND_BACKS) {
            var error = new JobError(JobError.NO_HANDLER, said + "; given back " + handBacks + " times by workers "
                    + "without its handler, the most a job may be", false);
            return update.end(state.moveTo(JobStatus.FAILED), event.at(), null, Json.write(error), null);
        }
        return update.end(state.moveTo(JobStatus.SCHEDULED), event.at(), null,
                Json.write(waitsForHandler(said, job, runs)), now.plus(noHandlerDelay(handBacks)));
    }

    /** The backoff after so many hand-backs by workers without the job's handler, at most a minute. */
    private Duration noHandlerDelay(int handBacks) {
        var delay = policy.backoff(handBacks);
        return delay.compareTo(MAX_NO_HANDLER_DELAY) > 0 ? MAX_NO_HANDLER_DELAY : delay;
    }

    private static JobError waitsForHandler(String said, JobFacts job, Optional<Boolean> runs) {
        return new JobError(JobError.NO_HANDLER, said + (runs.isPresent()
                ? "; another worker of queue '" + job.queue() + "' has one: it runs again"
                : "; it runs again, on a worker that has one if there is any"), true);
    }

    private static boolean isNextAttempt(JobState state, int attempt, int generation) {
        return state.status() == JobStatus.QUEUED && state.generation() == generation
                && attempt == state.attempts() + 1;
    }

    private static boolean isRunningAttempt(JobState state, int attempt, int generation) {
        return state.status() == JobStatus.RUNNING && state.generation() == generation && attempt == state.attempts();
    }
}
