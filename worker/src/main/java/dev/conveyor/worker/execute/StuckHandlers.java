package dev.conveyor.worker.execute;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Handler threads that outlive their attempt. Java cannot stop a thread that ignores interrupts, so a timed-out or
 * cancelled attempt is reported at once, but its thread is counted here ({@code conveyor.worker.handlers.stuck})
 * and keeps its type's permit and its place in {@code max-in-flight} until it really ends: per-type limits stay
 * true, and a worker filling up with stuck threads stops taking work instead of leaking them.
 */
final class StuckHandlers {

    /** How long a handler may take to end after its attempt ended before it counts as stuck. */
    static final Duration GRACE = Duration.ofSeconds(1);

    private static final Logger log = LoggerFactory.getLogger(StuckHandlers.class);

    private final AtomicInteger stuck = new AtomicInteger();

    StuckHandlers(MeterRegistry meters) {
        meters.gauge("conveyor.worker.handlers.stuck", stuck);
    }

    /**
     * Runs {@code release} once the attempt's handler thread has ended: now, if it ends within {@link #GRACE},
     * else when it does, counting it as stuck meanwhile (and saying so once).
     */
    void whenEnded(UUID jobId, String type, Attempt attempt, Runnable release) {
        boolean ended;
        try {
            ended = attempt.awaitHandler(GRACE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ended = false;
        }
        if (ended) {
            release.run();
            return;
        }
        var now = stuck.incrementAndGet();
        log.warn("The {} handler of job {} is still running {} after its attempt ended; it does not stop when "
                + "interrupted. Its thread keeps its type's permit and a place in max-in-flight until it ends "
                + "({} stuck now)", type, jobId, GRACE, now);
        attempt.handlerEnded().whenComplete((done, failure) -> {
            stuck.decrementAndGet();
            release.run();
            log.info("The stuck {} handler of job {} has ended", type, jobId);
        });
    }

    /** Handler threads still running after their attempt ended. */
    int count() {
        return stuck.get();
    }
}
