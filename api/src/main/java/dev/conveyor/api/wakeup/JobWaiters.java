package dev.conveyor.api.wakeup;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.springframework.stereotype.Component;

/**
 * The long-polls waiting on this instance, by job. A waiter blocks its (virtual) request thread on a latch, which
 * costs no platform thread and no polling; an ended job opens its latch.
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

    /** Wakes the waiters of these jobs. */
    public void wake(Iterable<UUID> ids) {
        for (var id : ids) {
            var signal = signals.remove(id);
            if (signal != null) {
                signal.latch.countDown();
            }
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

        /** Blocks until the job is woken or the time is up; true when woken. */
        public boolean await(Duration timeout) throws InterruptedException {
            return signal.latch.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
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
    }
}
