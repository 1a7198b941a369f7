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
 * One share consumer's loop. Every record of a poll runs at once, each on its own virtual thread, and is
 * acknowledged as it ends (explicit mode: ACCEPT once the outcome is on Kafka).
 *
 * <p>Kafka lets a consumer poll again only when every record of the last poll is acknowledged, and renewing a
 * lock ({@code RENEW}) counts as acknowledging: the renewed record comes back in the next poll, to be acknowledged
 * (or renewed) again. So the loop waits while records it holds are running, and when a lock nears its end it
 * renews every held record and polls, which returns them (and perhaps new records) with fresh locks. A record
 * whose job ends while it is out for renewal is acknowledged when it comes back.
 */
final class QueueConsumer implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(QueueConsumer.class);
    private static final Duration POLL = Duration.ofMillis(500);
    private static final long CHECK_MILLIS = 100;
    private static final long DEFAULT_LOCK_MILLIS = 30_000;

    private final String topic;
    private final ShareConsumer<String, String> consumer;
    private final JobRunner runner;
    private final Map<Position, Running> inFlight = new HashMap<>();
    private final BlockingQueue<Ended> ended = new LinkedBlockingQueue<>();
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
                take(poll());
                settleHeld();
            }
            // Draining: what this consumer holds runs to its end (or is handed back); polls now only bring back
            // renewed records (new ones are released at once by the draining runner).
            while (!inFlight.isEmpty()) {
                settleHeld();
                if (!inFlight.isEmpty()) {
                    take(poll());
                }
            }
        } catch (RuntimeException e) {
            log.error("Consumer of {} stopped: {}", topic, e.getMessage(), e);
        } finally {
            // Records still held go back to the group when the consumer leaves.
            consumer.close(Duration.ofSeconds(10));
        }
    }

    private ConsumerRecords<String, String> poll() {
        try {
            return consumer.poll(POLL);
        } catch (WakeupException e) {
            // stop() wakes a waiting poll so that draining starts at once
            return ConsumerRecords.empty();
        }
    }

    /** Stops taking records; the records already taken run to their end, or are handed back when abandoned. */
    void stop() {
        running = false;
        consumer.wakeup();
    }

    private void take(Iterable<ConsumerRecord<String, String>> records) {
        var now = Instant.now();
        for (var record : records) {
            var position = new Position(record.partition(), record.offset());
            var known = inFlight.get(position);
            if (known == null) {
                inFlight.put(position, new Running(record, now));
                Thread.ofVirtual().name("run-" + record.key())
                        .start(() -> ended.add(new Ended(position, runSafely(record))));
            } else {
                // back from a renewal
                known.record = record;
                known.held = true;
                known.lockedAt = now;
                if (known.outcome != null) {
                    acknowledge(position, known, known.outcome);
                }
            }
        }
        if (!inFlight.isEmpty()) {
            consumer.commitAsync();
        }
    }

    /**
     * Waits until no record of the last poll is held unacknowledged: each is acknowledged when its job ends, or
     * renewed when its lock nears its end (a renewed record comes back with the next poll).
     */
    private void settleHeld() {
        while (inFlight.values().stream().anyMatch(r -> r.held)) {
            var acknowledged = false;
            try {
                for (var done = ended.poll(CHECK_MILLIS, TimeUnit.MILLISECONDS); done != null; done = ended.poll()) {
                    var entry = inFlight.get(done.position());
                    if (entry != null && entry.held) {
                        acknowledge(done.position(), entry, done.type());
                        acknowledged = true;
                    } else if (entry != null) {
                        entry.outcome = done.type();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (lockNearlyOver()) {
                renewHeld();
                acknowledged = true;
            }
            if (acknowledged) {
                consumer.commitAsync();
            }
        }
    }

    private boolean lockNearlyOver() {
        var lockMillis = consumer.acquisitionLockTimeoutMs().map(Integer::longValue).orElse(DEFAULT_LOCK_MILLIS);
        var renewBefore = Instant.now().minusMillis(lockMillis / 2);
        return inFlight.values().stream().anyMatch(r -> r.held && r.lockedAt.isBefore(renewBefore));
    }

    private void renewHeld() {
        for (var entry : inFlight.values()) {
            if (entry.held) {
                consumer.acknowledge(entry.record, AcknowledgeType.RENEW);
                entry.held = false;
            }
        }
    }

    private void acknowledge(Position position, Running entry, AcknowledgeType type) {
        consumer.acknowledge(entry.record, type);
        inFlight.remove(position);
    }

    private AcknowledgeType runSafely(ConsumerRecord<String, String> record) {
        try {
            return runner.run(record);
        } catch (Throwable t) {
            log.error("Running job {} failed unexpectedly; releasing its record", record.key(), t);
            return AcknowledgeType.RELEASE;
        }
    }

    /** Where a record sits in the topic: what identifies it across a renewal. */
    private record Position(int partition, long offset) {
    }

    private record Ended(Position position, AcknowledgeType type) {
    }

    /** A record whose job runs, or ran while the record was out for renewal. */
    private static final class Running {
        ConsumerRecord<String, String> record;
        Instant lockedAt;
        boolean held = true;
        AcknowledgeType outcome;

        Running(ConsumerRecord<String, String> record, Instant lockedAt) {
            this.record = record;
            this.lockedAt = lockedAt;
        }
    }
}
