package dev.conveyor.worker.execute;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One consumer place of a queue, kept filled: a {@link QueueConsumer} that stops unexpectedly (an exception in its
 * loop, a consumer that cannot be made) is closed and replaced by a new one after a backoff of 1 s, doubling to
 * 30 s, back to 1 s once a consumer has run for a minute. {@link #working()} says whether a consumer runs now.
 */
final class SupervisedConsumer implements Runnable {

    static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    private static final Duration HEALTHY_RUN = Duration.ofMinutes(1);
    private static final Logger log = LoggerFactory.getLogger(SupervisedConsumer.class);

    private final String queue;
    private final String name;
    private final Supplier<QueueConsumer> consumers;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile QueueConsumer current;
    private volatile boolean working;
    private volatile int restarts;

    /** @param consumers makes a new consumer (with a new Kafka client) each time one is needed */
    SupervisedConsumer(String queue, int place, Supplier<QueueConsumer> consumers) {
        this.queue = queue;
        this.name = queue + "-" + place;
        this.consumers = consumers;
    }

    @Override
    public void run() {
        var backoff = FIRST_BACKOFF;
        while (stopped.getCount() > 0) {
            var startedAt = System.nanoTime();
            runOne();
            if (stopped.getCount() == 0) {
                return;
            }
            if (Duration.ofNanos(System.nanoTime() - startedAt).compareTo(HEALTHY_RUN) >= 0) {
                backoff = FIRST_BACKOFF;
            }
            restarts++;
            log.error("Consumer {} stopped unexpectedly; a new one starts in {} (restart {})", name, backoff,
                    restarts);
            try {
                if (stopped.await(backoff.toMillis(), TimeUnit.MILLISECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                return;
            }
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
    }

    /** Makes a consumer and runs it until it stops, whatever it throws. */
    private void runOne() {
        try {
            var consumer = consumers.get();
            current = consumer;
            working = true;
            if (stopped.getCount() == 0) {
                consumer.stop(); // stopped while it was made: run() closes it at once
            }
            consumer.run();
        } catch (Throwable t) {
            log.error("Consumer {} failed: {}", name, t.toString(), t);
        } finally {
            working = false;
            current = null;
        }
    }

    /** Whether a consumer runs in this place now (false while waiting to replace one that stopped). */
    boolean working() {
        return working;
    }

    /** How many times a consumer was replaced. */
    int restarts() {
        return restarts;
    }

    String queue() {
        return queue;
    }

    /** Stops the consumer running now, if any, and replaces none. */
    void stop() {
        stopped.countDown();
        var consumer = current;
        if (consumer != null) {
            try {
                consumer.stop();
            } catch (RuntimeException e) {
                log.warn("Stopping consumer {}: {}", name, e.toString());
            }
        }
    }
}
