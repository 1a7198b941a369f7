package dev.conveyor.worker.execute;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.ShareConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One share consumer's loop. Every record of a poll runs at once, each on its own virtual thread; the loop
 * acknowledges each as it ends (explicit mode: ACCEPT once the outcome is on Kafka) and renews the locks of those
 * that run long. The consumer is used by this loop's thread only, as Kafka requires.
 */
final class QueueConsumer implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(QueueConsumer.class);
    private static final Duration POLL = Duration.ofMillis(500);
    private static final long CHECK_MILLIS = 200;
    private static final long DEFAULT_LOCK_MILLIS = 30_000;

    private final String topic;
    private final ShareConsumer<String, String> consumer;
    private final JobRunner runner;
    private volatile boolean running = true;

    QueueConsumer(String topic, ShareConsumer<String, String> consumer, JobRunner runner) {
        this.topic = topic;
        this.consumer = consumer;
        this.runner = runner;
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(List.of(topic));
            while (running) {
                var records = consumer.poll(POLL);
                if (!records.isEmpty()) {
                    runAll(records);
                }
            }
        } catch (WakeupException e) {
            if (running) {
                throw e;
            }
        } catch (RuntimeException e) {
            log.error("Consumer of {} stopped: {}", topic, e.getMessage(), e);
        } finally {
            // Records acquired but not acknowledged go back to the group when the consumer leaves.
            consumer.close(Duration.ofSeconds(10));
        }
    }

    /** Stops taking records; the records already taken still run to their end. */
    void stop() {
        running = false;
        consumer.wakeup();
    }

    private void runAll(ConsumerRecords<String, String> records) {
        BlockingQueue<Ended> ended = new LinkedBlockingQueue<>();
        Map<ConsumerRecord<String, String>, Instant> lockedSince = new HashMap<>();
        var now = Instant.now();
        for (var record : records) {
            lockedSince.put(record, now);
            Thread.ofVirtual().name("run-" + record.key())
                    .start(() -> ended.add(new Ended(record, runSafely(record))));
        }
        while (!lockedSince.isEmpty()) {
            Ended first;
            try {
                first = ended.poll(CHECK_MILLIS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            var acknowledged = false;
            for (var done = first; done != null; done = ended.poll()) {
                consumer.acknowledge(done.record(), done.type());
                lockedSince.remove(done.record());
                acknowledged = true;
            }
            acknowledged |= renewLongRunning(lockedSince);
            if (acknowledged) {
                consumer.commitAsync();
            }
        }
    }

    /** Renews the lock of every record that has held it for half its duration. */
    private boolean renewLongRunning(Map<ConsumerRecord<String, String>, Instant> lockedSince) {
        var lockMillis = consumer.acquisitionLockTimeoutMs().map(Integer::longValue).orElse(DEFAULT_LOCK_MILLIS);
        var renewBefore = Instant.now().minusMillis(lockMillis / 2);
        var renewed = false;
        for (var entry : lockedSince.entrySet()) {
            if (entry.getValue().isBefore(renewBefore)) {
                consumer.acknowledge(entry.getKey(), AcknowledgeType.RENEW);
                entry.setValue(Instant.now());
                renewed = true;
            }
        }
        return renewed;
    }

    private AcknowledgeType runSafely(ConsumerRecord<String, String> record) {
        try {
            return runner.run(record);
        } catch (Throwable t) {
            log.error("Running job {} failed unexpectedly; releasing its record", record.key(), t);
            return AcknowledgeType.RELEASE;
        }
    }

    private record Ended(ConsumerRecord<String, String> record, AcknowledgeType type) {
    }
}
