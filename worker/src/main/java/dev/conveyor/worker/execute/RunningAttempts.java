package dev.conveyor.worker.execute;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The attempts running on this worker (one per job: its latest), and the cancellations it has heard of. A
 * cancellation stops a running attempt of the same or an earlier generation, and keeps later deliveries of the job
 * from starting; a job retried since (a later generation) runs again.
 *
 * <p>Cancellations are remembered for {@link #REMEMBER} after they were made, and at most {@link #MOST_REMEMBERED} of
 * them: the oldest are forgotten first, found at the head of a queue in the order they came, so a cancellation costs
 * the same however many are remembered (the worker replays a week of them from {@code conveyor.control} before it
 * takes a job). A forgotten cancellation lets a record of its job still waiting on Kafka run; the api, which
 * cancelled the job at once, ignores that attempt's outcome.
 */
@Component
public class RunningAttempts {

    private static final Logger log = LoggerFactory.getLogger(RunningAttempts.class);

    /** Cancellations older than this are forgotten (the control topic keeps a week by default). */
    static final Duration REMEMBER = Duration.ofDays(7);

    /** Beyond this many, the oldest cancellations are forgotten (at about 110 bytes each, some 110 MB of heap). */
    static final int MOST_REMEMBERED = 1_000_000;

    /**
     * How much later than a cancellation a record it covers may have been dispatched: the api dispatches no job after
     * cancelling it (a retry is a later generation), so a later record is not one it cancelled; the margin is for the
     * clocks of the api instances and of this worker, which may differ a little.
     */
    static final Duration CLOCK_SLACK = Duration.ofMinutes(1);

    private final Clock clock;
    private final int mostRemembered;
    private final Map<UUID, Attempt> running = new ConcurrentHashMap<>();
    private final Map<UUID, Cancelled> cancelled = new ConcurrentHashMap<>();
    /** The cancellations kept in {@link #cancelled} as they came (some replaced since), oldest first; locked. */
    private final Queue<Cancelled> arrivals = new ArrayDeque<>();

    private record Cancelled(UUID jobId, int generation, long atMillis) {
    }

    public RunningAttempts() {
        this(Clock.systemUTC(), MOST_REMEMBERED);
    }

    RunningAttempts(Clock clock, int mostRemembered) {
        this.clock = clock;
        this.mostRemembered = mostRemembered;
    }

    /** Records a cancellation made now, and stops the job if it runs here. */
    public void cancel(UUID jobId, int generation) {
        cancel(jobId, generation, clock.instant());
    }

    /**
     * Records a cancellation, and stops the job if it runs here.
     *
     * @param at when it was made (its record's timestamp): it is remembered for {@link #REMEMBER} from then, however
     *           late the worker reads it
     */
    public void cancel(UUID jobId, int generation, Instant at) {
        var cancellation = new Cancelled(jobId, generation, at.toEpochMilli());
        var changed = new boolean[1];
        // the latest generation and the latest time heard of: a cancellation of a low generation, sent late (after an
        // outage), must not undo one of a later generation, nor one of an absurd generation a later real one
        var kept = cancelled.compute(jobId, (id, old) -> {
            var merged = old == null ? cancellation : new Cancelled(jobId, Math.max(old.generation(), generation),
                    Math.max(old.atMillis(), cancellation.atMillis()));
            changed[0] = old == null || !merged.equals(old);
            return changed[0] ? merged : old;
        });
        var attempt = running.get(jobId);
        if (attempt != null && attempt.generation() <= generation) {
            attempt.cancel();
        }
        if (changed[0]) {
            remember(kept);
        }
    }

    /**
     * Queues the cancellation and forgets the oldest beyond the bound or past the horizon: each cancellation is
     * queued and forgotten once, so the work is constant per cancellation, however many are remembered. Timestamps of
     * different partitions interleave, so one past the horizon may wait behind a younger one; the bound still holds.
     */
    private void remember(Cancelled cancellation) {
        var horizon = clock.millis() - REMEMBER.toMillis();
        synchronized (arrivals) {
            arrivals.add(cancellation);
            while (!arrivals.isEmpty()
                    && (arrivals.size() > mostRemembered || arrivals.peek().atMillis() < horizon)) {
                var oldest = arrivals.remove();
                cancelled.remove(oldest.jobId(), oldest); // unless a later cancellation of the job replaced it
            }
        }
    }

    boolean isCancelled(UUID jobId, int generation) {
        return isCancelled(jobId, generation, null);
    }

    /**
     * Whether a dispatch of {@code generation}, dispatched at {@code dispatchedAt} (null: not known), is cancelled: a
     * cancellation covers the generations up to its own, dispatched before it was made. A record dispatched after it
     * (less {@link #CLOCK_SLACK}) is of a retry since: so a cancellation that claims a generation the job never had
     * (2147483647, written to the topic by hand) cancels no retry made after it, where it cancelled every retry of the
     * job, on every worker, for the week it is remembered.
     */
    boolean isCancelled(UUID jobId, int generation, Instant dispatchedAt) {
        var c = cancelled.get(jobId);
        return c != null && c.generation() >= generation
                && (dispatchedAt == null || dispatchedAt.toEpochMilli() <= c.atMillis() + CLOCK_SLACK.toMillis());
    }

    /** What became of an attempt offered to {@link #register}. */
    enum Registration { REGISTERED, CANCELLED, ALREADY_RUNNING, SUPERSEDED, INCONSISTENT }

    /**
     * Registers an attempt before it starts. {@code CANCELLED} when the job is cancelled already (checked after
     * registering, so a cancellation arriving in between is not missed); {@code ALREADY_RUNNING} when this worker
     * runs that very attempt already: a second record of one dispatch (a publish reported failed that reached Kafka
     * all the same, then published again), which must not run twice here; {@code SUPERSEDED} when it runs a later
     * attempt of the job: the one offered is a stale record delivered again, which the api has given up;
     * {@code INCONSISTENT} when it claims to be a later attempt of the generation running here with another budget
     * ({@link Attempt#mayFollow}), which no api dispatches: it must not stop the attempt running.
     *
     * <p>An earlier attempt running here is given up by the api too (it rescued or retried the job), so it is
     * abandoned for the one offered, and the job's cancellation, the hand-back at shutdown and the count in flight
     * find the attempt that counts. Abandoned, not cancelled: it ends as handed back, an outcome the api ignores for
     * an attempt it no longer runs, where a cancellation would be a final state if it were ever applied.
     */
    Registration register(UUID jobId, Attempt attempt) {
        return register(jobId, attempt, null);
    }

    /** As {@link #register(UUID, Attempt)}, for a record dispatched at {@code dispatchedAt} ({@link #isCancelled}). */
    Registration register(UUID jobId, Attempt attempt, Instant dispatchedAt) {
        while (true) {
            var earlier = running.putIfAbsent(jobId, attempt);
            if (earlier == null) {
                break;
            }
            if (earlier.isSameAs(attempt)) {
                return Registration.ALREADY_RUNNING;
            }
            if (!attempt.isLaterThan(earlier)) {
                return Registration.SUPERSEDED;
            }
            if (!attempt.mayFollow(earlier)) {
                return Registration.INCONSISTENT;
            }
            if (running.replace(jobId, earlier, attempt)) {
                log.info("Job {} generation {} attempt {} runs here, but the api has given it up for generation {} "
                        + "attempt {}: abandoning it", jobId, earlier.generation(), earlier.number(),
                        attempt.generation(), attempt.number());
                earlier.abandon();
                break;
            }
        }
        if (isCancelled(jobId, attempt.generation(), dispatchedAt)) {
            running.remove(jobId, attempt);
            return Registration.CANCELLED;
        }
        return Registration.REGISTERED;
    }

    void unregister(UUID jobId, Attempt attempt) {
        running.remove(jobId, attempt);
    }

    /** Interrupts every running attempt, to hand its job back (shutdown after the grace period). */
    void abandonAll() {
        running.values().forEach(Attempt::abandon);
    }

    /** Attempts running now. */
    public int count() {
        return running.size();
    }
}
