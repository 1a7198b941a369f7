package dev.conveyor.api.wakeup;

import dev.conveyor.api.job.Job;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.springframework.boot.web.server.context.WebServerGracefulShutdownLifecycle;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * The long-polls waiting on this instance, by job. A waiter blocks its (virtual) request thread on a latch, which
 * costs no platform thread and no polling; an ended job opens its latch.
 *
 * <p>It also knows the jobs most recently submitted alone on this instance that it has not yet seen end (every end
 * reaches it: from this instance's event applier, or as a {@code NOTIFY} from another's), so that a long-poll of
 * one of those, the usual "submit, then wait for the outcome", waits at once instead of reading the job first.
 *
 * <p>The transaction that ends a job here can hand its waiters the job as it wrote it ({@link #wake(Iterable, Map)}),
 * so that they answer without reading it again.
 *
 * <p>When the api shuts down, just before the web server waits for its requests to finish, every long-poll is
 * answered with its job as it stands, as at its deadline ({@link #closing()}): held to its {@code wait}, each would
 * keep the shutdown waiting up to Spring's 30 s limit and then lose its connection with no answer.
 */
@Component
public class JobWaiters implements SmartLifecycle {

    /** How many recent submissions are remembered; older ones are read first, as any other job. */
    static final int RECENT = 16_384;

    private final Map<UUID, Signal> signals = new ConcurrentHashMap<>();
    /** Recent submissions not seen ending, with their tenant ("" for none). */
    private final Map<UUID, String> unended = new ConcurrentHashMap<>();
    private final AtomicReferenceArray<UUID> recent = new AtomicReferenceArray<>(RECENT);
    private final AtomicLong submitted = new AtomicLong();
    private volatile boolean closing;
    private volatile boolean running;

    JobWaiters(MeterRegistry registry) {
        // read on scrape only: no per-request meter work
        Gauge.builder("conveyor.longpolls.open", this, JobWaiters::waiting)
                .description("long-polls (GET /v1/jobs/{id}?wait=...) waiting on this api instance")
                .register(registry);
    }

    /** Registers interest in a job before its state is read, so that an end in between is not missed. */
    public Registration register(UUID id) {
        var signal = signals.compute(id, (key, existing) -> {
            var s = existing == null ? new Signal() : existing;
            s.waiters++;
            return s;
        });
        return new Registration(id, signal);
    }

    /**
     * A job of this tenant is about to be stored: call before it can be dispatched, so that its end cannot come
     * first. Forgets the oldest remembered submission when full.
     */
    public void submitting(UUID id, String tenant) {
        var evicted = recent.getAndSet((int) (submitted.getAndIncrement() % RECENT), id);
        if (evicted != null) {
            unended.remove(evicted);
        }
        unended.put(id, tenant == null ? "" : tenant);
    }

    /** The job was not stored after all (refused, a replayed key, a failure). */
    public void notStored(UUID id) {
        unended.remove(id);
    }

    /**
     * Whether the job was submitted here, has not ended since, and is visible to a caller who sees the jobs of
     * {@code visibleTenant} (null: all): then its state need not be read before waiting. Call after {@link #register},
     * so that an end in between wakes the registration.
     */
    public boolean knownUnended(UUID id, String visibleTenant) {
        var tenant = unended.get(id);
        return tenant != null && (visibleTenant == null || visibleTenant.equals(tenant));
    }

    /**
     * Called by a transaction about to end this job: true when long-polls wait for it here, and then they are kept
     * for that transaction, which must {@link #wake(Iterable, Map) wake} them once it has committed or failed (a
     * {@code NOTIFY} of the same end, which can arrive first, does not wake them without the row).
     */
    public boolean handOverPending(UUID id) {
        return signals.computeIfPresent(id, (key, signal) -> {
            signal.handOverPending = true;
            return signal;
        }) != null;
    }

    /**
     * Wakes the waiters of these jobs, which ended; except those kept for a transaction of this instance that ends
     * the job ({@link #handOverPending}), which wakes them itself.
     */
    public void wake(Iterable<UUID> ids) {
        for (var id : ids) {
            // before the wake-up: a long-poll that registers after this reads the job
            unended.remove(id);
            var woken = new Signal[1];
            signals.computeIfPresent(id, (key, signal) -> {
                if (signal.handOverPending) {
                    return signal;
                }
                woken[0] = signal;
                return null;
            });
            if (woken[0] != null) {
                woken[0].latch.countDown();
            }
        }
    }

    /**
     * Wakes the waiters of these jobs after the transaction that ended them: hands those in {@code handed} the job
     * as that transaction wrote it, if it committed (else {@code handed} is empty, and the waiters read the job).
     */
    public void wake(Iterable<UUID> ids, Map<UUID, Ended> handed) {
        for (var id : ids) {
            // before the wake-up: a long-poll that registers after this reads the job
            unended.remove(id);
            var signal = signals.remove(id);
            if (signal != null) {
                signal.ended = handed.get(id);
                signal.latch.countDown();
            }
        }
    }

    /** Wakes everybody, who then read their job again (after missed notifications, say). */
    public void wakeAll() {
        unended.clear();
        wake(Map.copyOf(signals).keySet());
    }

    /**
     * Whether this instance is shutting down: a long-poll then answers its job as it stands instead of waiting. Read
     * after {@link #register}: a registration made before the shutdown began is woken by it.
     */
    public boolean closing() {
        return closing;
    }

    @Override
    public void start() {
        closing = false;
        running = true;
    }

    /** Answers every long-poll: the shutdown has begun. */
    @Override
    public void stop() {
        closing = true;
        running = false;
        wakeAll();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Just before the web server's graceful shutdown, which waits for the requests these long-polls hold. */
    @Override
    public int getPhase() {
        return WebServerGracefulShutdownLifecycle.SMART_LIFECYCLE_PHASE + 1;
    }

    int waiting() {
        return signals.values().stream().mapToInt(s -> s.waiters).sum();
    }

    /** One waiter's hold on a job's signal. */
    public final class Registration implements AutoCloseable {

        private final UUID id;
        private final Signal signal;

        private Registration(UUID id, Signal signal) {
            this.id = id;
            this.signal = signal;
        }

        /** Blocks until the job is woken or the time is up; true when woken. */
        public boolean await(Duration timeout) throws InterruptedException {
            return signal.latch.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
        }

        /**
         * After a wake-up: the ended job as its transaction wrote it, if that transaction handed it over and a
         * caller who sees the jobs of {@code visibleTenant} (null: all) may see it; otherwise null, and the job is
         * to be read.
         */
        public Job handed(String visibleTenant) {
            var ended = signal.ended;
            if (ended == null || (visibleTenant != null && !visibleTenant.equals(ended.tenant()))) {
                return null;
            }
            return ended.job();
        }

        @Override
        public void close() {
            signals.computeIfPresent(id, (key, current) -> {
                if (current != signal) {
                    return current;
                }
                current.waiters--;
                return current.waiters == 0 ? null : current;
            });
        }
    }

    /** A job that ended, as the transaction that ended it wrote it, and its tenant. */
    public record Ended(Job job, String tenant) {
    }

    private static final class Signal {
        final CountDownLatch latch = new CountDownLatch(1);
        int waiters;
        /** Set before the latch opens (which publishes it to the waiters), when the job is handed over. */
        Ended ended;
        /** Kept for the transaction of this instance that ends the job (set and read in the map's compute). */
        boolean handOverPending;
    }
}
