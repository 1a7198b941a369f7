package dev.conveyor.api.wakeup;

import dev.conveyor.api.job.Job;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.springframework.stereotype.Component;

/**
 * The long-polls waiting on this instance, by job. A waiter blocks its (virtual) request thread on a latch, which
 * costs no platform thread and no polling; an ended job opens its latch. The writer that ended the job may hand
 * over the job as it committed it, so that its waiters answer without reading it again.
 */
@Component
public class JobWaiters {

    private final Map<UUID, Signal> signals = new ConcurrentHashMap<>();

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

    /** Whether a long-poll on this instance waits for the job (it may stop waiting at any time). */
    public boolean isWaitedFor(UUID id) {
        return signals.containsKey(id);
    }

    /** Wakes the waiters of these jobs, who then read their job again. */
    public void wake(Iterable<UUID> ids) {
        for (var id : ids) {
            wake(id, null);
        }
    }

    /**
     * Wakes the waiters of these ended jobs with the job as it was committed (call after the commit); those of
     * {@code ids} missing from {@code ended} read their job again.
     */
    public void wake(Iterable<UUID> ids, Map<UUID, Job> ended) {
        for (var id : ids) {
            wake(id, ended.get(id));
        }
    }

    private void wake(UUID id, Job ended) {
        var signal = signals.remove(id);
        if (signal != null) {
            signal.ended = ended;
            signal.latch.countDown();
        }
    }

    /** Wakes everybody, who then read their job again (after missed notifications, say). */
    public void wakeAll() {
        wake(Map.copyOf(signals).keySet());
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

        /**
         * Blocks until the job is woken or the time is up; answers the ended job when its writer handed it over,
         * empty when the waiter must read it (woken without it, or the time is up).
         */
        public Optional<Job> await(Duration timeout) throws InterruptedException {
            if (!signal.latch.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                return Optional.empty();
            }
            return Optional.ofNullable(signal.ended);
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

    private static final class Signal {
        final CountDownLatch latch = new CountDownLatch(1);
        int waiters;
        // written before the latch opens, read after: the latch orders the two
        Job ended;
    }
}
