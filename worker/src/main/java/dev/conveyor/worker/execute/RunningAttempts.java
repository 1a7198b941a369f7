package dev.conveyor.worker.execute;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The attempts running on this worker (one per job: its latest), and the cancellations it has heard of. A
 * cancellation stops a running attempt of the same or an earlier generation, and keeps later deliveries of the job
 * from starting; a job retried since (a later generation) runs again.
 */
@Component
public class RunningAttempts {

    private static final Logger log = LoggerFactory.getLogger(RunningAttempts.class);

    /** Cancellations older than this are forgotten (the control topic keeps a week by default). */
    private static final Duration REMEMBER = Duration.ofDays(7);

    private final Map<UUID, Attempt> running = new ConcurrentHashMap<>();
    private final Map<UUID, Cancelled> cancelled = new ConcurrentHashMap<>();

    private record Cancelled(int generation, Instant at) {
    }

    /** Records a cancellation, and stops the job if it runs here. */
    public void cancel(UUID jobId, int generation) {
        cancelled.merge(jobId, new Cancelled(generation, Instant.now()),
                (old, now) -> now.generation() >= old.generation() ? now : old);
        var attempt = running.get(jobId);
        if (attempt != null && attempt.generation() <= generation) {
            attempt.cancel();
        }
        if (cancelled.size() > 100_000) {
            var horizon = Instant.now().minus(REMEMBER);
            cancelled.values().removeIf(c -> c.at().isBefore(horizon));
        }
    }

    boolean isCancelled(UUID jobId, int generation) {
        var c = cancelled.get(jobId);
        return c != null && c.generation() >= generation;
    }

    /** What became of an attempt offered to {@link #register}. */
    enum Registration { REGISTERED, CANCELLED, ALREADY_RUNNING, SUPERSEDED }

    /**
     * Registers an attempt before it starts. {@code CANCELLED} when the job is cancelled already (checked after
     * registering, so a cancellation arriving in between is not missed); {@code ALREADY_RUNNING} when this worker
     * runs that very attempt already: a second record of one dispatch (a publish reported failed that reached Kafka
     * all the same, then published again), which must not run twice here; {@code SUPERSEDED} when it runs a later
     * attempt of the job: the one offered is a stale record delivered again, which the api has given up.
     *
     * <p>An earlier attempt running here is given up by the api too (it rescued or retried the job), so it is
     * abandoned for the one offered, and the job's cancellation, the hand-back at shutdown and the count in flight
     * find the attempt that counts. Abandoned, not cancelled: it ends as handed back, an outcome the api ignores for
     * an attempt it no longer runs, where a cancellation would be a final state if it were ever applied.
     */
    Registration register(UUID jobId, Attempt attempt) {
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
            if (running.replace(jobId, earlier, attempt)) {
                log.info("Job {} generation {} attempt {} runs here, but the api has given it up for generation {} "
                        + "attempt {}: abandoning it", jobId, earlier.generation(), earlier.number(),
                        attempt.generation(), attempt.number());
                earlier.abandon();
                break;
            }
        }
        if (isCancelled(jobId, attempt.generation())) {
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
