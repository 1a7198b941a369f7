package dev.conveyor.worker.execute;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One consumer place of a queue, kept filled: a {@link QueueConsumer} that stops unexpectedly (an exception in its
 * loop, a consumer that cannot be made) is closed and replaced by a new one after a backoff of 1 s, doubling to
 * 30 s, back to 1 s once a consumer has run for a minute. One that closed for want of a connection to Kafka
 * ({@link QueueConsumer#cutOff()}) is replaced once Kafka answers again, asked every {@link #PROBE_EVERY}.
 * {@link #working()} says whether a consumer runs now.
 */
final class SupervisedConsumer implements Runnable {

    static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    private static final Duration HEALTHY_RUN = Duration.ofMinutes(1);
    /** How often to ask whether Kafka answers again, while a consumer waits for it. */
    static final Duration PROBE_EVERY = Duration.ofSeconds(2);
    private static final Logger log = LoggerFactory.getLogger(SupervisedConsumer.class);

    private final String queue;
    private final String name;
    private final Supplier<QueueConsumer> consumers;
    private final BooleanSupplier kafkaAnswers;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile QueueConsumer current;
    private volatile boolean working;
    private volatile int restarts;

    /**
     * @param consumers    makes a new consumer (with a new Kafka client) each time one is needed
     * @param kafkaAnswers whether Kafka answers now (asked, and may wait a little, only after a consumer was cut off)
     */
    SupervisedConsumer(String queue, int place, Supplier<QueueConsumer> consumers, BooleanSupplier kafkaAnswers) {
        this.queue = queue;
        this.name = queue + "-" + place;
        this.consumers = consumers;
        this.kafkaAnswers = kafkaAnswers;
    }

    @Override
    public void run() {
        var backoff = FIRST_BACKOFF;
        while (stopped.getCount() > 0) {
            var startedAt = System.nanoTime();
            var cutOff = runOne();
            if (stopped.getCount() == 0) {
                return;
            }
            if (cutOff) {
                if (!awaitKafka()) {
                    return;
                }
                log.info("Kafka answers again: consumer {} starts again", name);
                backoff = FIRST_BACKOFF;
                continue;
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

    /** Makes a consumer and runs it until it stops, whatever it throws; answers whether it was cut off. */
    private boolean runOne() {
        try {
            var consumer = consumers.get();
            current = consumer;
            working = true;
            if (stopped.getCount() == 0) {
                consumer.stop(); // stopped while it was made: run() closes it at once
            }
            consumer.run();
            return consumer.cutOff();
        } catch (Throwable t) {
            log.error("Consumer {} failed: {}", name, t.toString(), t);
            return false;
        } finally {
            working = false;
            current = null;
        }
    }

    /** Waits until Kafka answers; false when stopped meanwhile. */
    private boolean awaitKafka() {
        try {
            while (!kafkaAnswers.getAsBoolean()) {
                if (stopped.await(PROBE_EVERY.toMillis(), TimeUnit.MILLISECONDS)) {
                    return false;
                }
            }
            return stopped.getCount() > 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
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
