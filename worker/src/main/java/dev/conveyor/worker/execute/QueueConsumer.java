package dev.conveyor.worker.execute;

import dev.conveyor.common.log.LogText;
import dev.conveyor.worker.ShutdownWaits;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.ShareConsumer;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One share consumer's loop: poll, take every record on a virtual thread of its own, acknowledge each once it is
 * taken (ACCEPT, with its start sent to Kafka side by side), commit, poll again. Jobs run on after their record is
 * accepted, so a long job never holds back the next poll and never needs its record lock renewed. A job on its first
 * attempt and delivery starts as its record is accepted; any other waits for the commit ({@link JobRunner}).
 *
 * <p>Why not accept only after the outcome: Kafka lets a share consumer poll again only when every record of its
 * last poll is acknowledged, and (measured with kafka-clients 4.2.1) a consumer holding a renewed record receives
 * nothing else until it lets go of it, so each long job would stop its consumer. Instead, a worker that dies with
 * jobs running is noticed by the api (no heartbeat) and those jobs are retried from PostgreSQL.
 *
 * <p>A consumer without a connection to Kafka for {@link #CUT_OFF_AFTER} closes and says so ({@link #cutOff()}): its
 * {@link SupervisedConsumer} makes a new one once Kafka answers again. Measured with kafka-clients 4.2.1 against a
 * broker that was gone, a share consumer's network thread and its poll spun without pause, about half a core each,
 * and logged "Rebootstrapping" some 3,000 times a second, for as long as the outage lasted.
 */
final class QueueConsumer implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(QueueConsumer.class);
    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration FULL_PAUSE = Duration.ofMillis(50);
    /** How long a consumer goes on without a connection to Kafka before it closes until Kafka answers again. */
    static final Duration CUT_OFF_AFTER = Duration.ofSeconds(10);
    /** The least of a record's lock on Kafka kept for its acknowledgement and commit. */
    private static final Duration LOCK_MARGIN = Duration.ofSeconds(1);
    /** The most of a record's key that names the thread taking it: a job id's 36 characters. */
    private static final int KEY_IN_NAME = 36;

    private final String topic;
    private final ShareConsumer<String, String> consumer;
    private final JobRunner runner;
    private final int maxInFlight;
    private final long maxInFlightBytes;
    /**
     * The least weight of the records of the last poll that found no room under max-in-flight-bytes (they were
     * released), or 0. The consumer polls again once there is room for it: sooner, it would take such a record back
     * at once and release it again, each time a delivery of the few Kafka allows.
     */
    private final AtomicLong roomWanted = new AtomicLong();
    private final Duration cutOffAfter;
    private volatile boolean running = true;
    private volatile boolean cutOff;
    /** The client's count of its open connections, once looked up (null: not yet, or it has none). */
    private Metric connections;
    private boolean lookedUp;
    /** Since when the client has had no connection (System.nanoTime), or -1. */
    private long unconnectedSince = -1;

    QueueConsumer(String topic, ShareConsumer<String, String> consumer, JobRunner runner, int maxInFlight,
            long maxInFlightBytes) {
        this(topic, consumer, runner, maxInFlight, maxInFlightBytes, CUT_OFF_AFTER);
    }

    QueueConsumer(String topic, ShareConsumer<String, String> consumer, JobRunner runner, int maxInFlight,
            long maxInFlightBytes, Duration cutOffAfter) {
        this.topic = topic;
        this.consumer = consumer;
        this.runner = runner;
        this.maxInFlight = maxInFlight;
        this.maxInFlightBytes = maxInFlightBytes;
        this.cutOffAfter = cutOffAfter;
    }

    /** Whether it stopped for having had no connection to Kafka for {@link #CUT_OFF_AFTER}. */
    boolean cutOff() {
        return cutOff;
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(List.of(topic));
            while (running) {
                if (runner.occupied() >= maxInFlight || runner.heldBytes() >= maxInFlightBytes || waitsForRoom()) {
                    // Full (stuck handler threads count), in jobs or in what they hold: take nothing more until jobs
                    // end. Holding no records, the consumer needs no poll. Below the bytes, a poll's records are taken
                    // while they fit (the others released); a record larger than the bound is taken once nothing else
                    // is held.
                    Thread.sleep(FULL_PAUSE);
                    continue;
                }
                var records = poll();
                if (records.isEmpty() && cutOffNow()) {
                    cutOff = true;
                    log.warn("No connection to Kafka for {} s: the consumer of {} closes until Kafka answers again",
                            cutOffAfter.toSeconds(), topic);
                    return;
                }
                takeAll(records);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.error("Consumer of {} stopped: {}", topic, e.getMessage(), e);
        } finally {
            consumer.close(ShutdownWaits.CONSUMER_CLOSE);
        }
    }

    private boolean waitsForRoom() {
        var wanted = roomWanted.get();
        if (wanted == 0) {
            return false;
        }
        var held = runner.heldBytes();
        if (held == 0 || held <= maxInFlightBytes - wanted) {
            roomWanted.set(0);
            return false;
        }
        return true;
    }

    /** Stops polling; records being taken are acknowledged (released if not started) before the consumer closes. */
    void stop() {
        running = false;
        consumer.wakeup();
    }

    private ConsumerRecords<String, String> poll() {
        try {
            return consumer.poll(POLL);
        } catch (WakeupException e) {
            return ConsumerRecords.empty();
        }
    }

    /** Whether the client has had no connection to Kafka for {@link #cutOffAfter}; checked after empty polls. */
    private boolean cutOffNow() {
        if (!lookedUp) {
            lookedUp = true;
            connections = consumer.metrics().entrySet().stream()
                    .filter(metric -> metric.getKey().name().equals("connection-count")
                            && metric.getKey().group().equals("consumer-metrics"))
                    .map(metric -> (Metric) metric.getValue()).findFirst().orElse(null);
        }
        if (connections == null || !(connections.metricValue() instanceof Number count) || count.doubleValue() > 0) {
            unconnectedSince = -1;
            return false;
        }
        var now = System.nanoTime();
        if (unconnectedSince < 0) {
            unconnectedSince = now;
        }
        return now - unconnectedSince >= cutOffAfter.toNanos();
    }

    private void takeAll(ConsumerRecords<String, String> records) {
        if (records.isEmpty()) {
            return;
        }
        var taking = new ArrayList<Taking>();
        var committed = new CompletableFuture<Void>();
        var lockLeft = lockLeft();
        for (var record : records) {
            var acknowledge = new CompletableFuture<AcknowledgeType>();
            taking.add(new Taking(record, acknowledge));
            // named after its job's id, which is the record's key; a key is anyone's to write (a megabyte, line breaks)
            Thread.ofVirtual().name("take-" + LogText.of(record.key(), KEY_IN_NAME))
                    .start(() -> take(record, lockLeft, acknowledge, committed));
        }
        try {
            for (var t : taking) {
                consumer.acknowledge(t.record(), t.acknowledge().join());
            }
            commit();
        } finally {
            committed.complete(null);
        }
    }

    /**
     * How long the poll's records may stay unacknowledged (waiting for their type's limit): Kafka's acquisition lock
     * on them, less a fifth of it and at least {@link #LOCK_MARGIN} for their acknowledgement to reach it (the lock
     * began when they were fetched, a little before the poll answered); null when the consumer does not know it yet.
     * Past the lock Kafka hands a record to another consumer, and both would run its job.
     */
    private Duration lockLeft() {
        var lock = consumer.acquisitionLockTimeoutMs();
        if (lock.isEmpty()) {
            return null;
        }
        var millis = lock.get().longValue();
        return Duration.ofMillis(Math.max(0, millis - Math.max(LOCK_MARGIN.toMillis(), millis / 5)));
    }

    /**
     * Commits the poll's acknowledgements. The jobs that wait for it (those that may be what stops a worker: a later
     * attempt, a record delivered again) start after it: a worker that such a job stops has then settled the record,
     * and Kafka does not hand it to another worker to run a second time; the api rescues the attempt instead. A
     * commit that fails is logged and the jobs run anyway: their starts are sent to Kafka, so the api counts them as
     * running.
     */
    private void commit() {
        try {
            consumer.commitSync(COMMIT_TIMEOUT).forEach((partition, failure) -> failure.ifPresent(e ->
                    log.warn("Kafka did not take the acknowledgements for {}: {}", partition, e.getMessage())));
        } catch (RuntimeException e) {
            log.warn("Committing acknowledgements of {} failed: {}", topic, e.getMessage());
        }
    }

    private void take(ConsumerRecord<String, String> record, Duration lockLeft,
            CompletableFuture<AcknowledgeType> acknowledge, CompletableFuture<Void> committed) {
        try {
            takeTraced(record, lockLeft, acknowledge, committed);
        } finally {
            // the poll's thread waits for every record's acknowledgement: whatever threw, this one has one
            acknowledge.complete(AcknowledgeType.RELEASE);
        }
    }

    private void takeTraced(ConsumerRecord<String, String> record, Duration lockLeft,
            CompletableFuture<AcknowledgeType> acknowledge, CompletableFuture<Void> committed) {
        try (var traced = runner.trace(record)) {
            JobRunner.Taken taken;
            try {
                taken = runner.take(record, lockLeft, maxInFlightBytes);
                var weight = taken.noRoomFor();
                if (weight > 0) {
                    roomWanted.accumulateAndGet(weight, (wanted, w) -> wanted == 0 ? w : Math.min(wanted, w));
                }
            } catch (Throwable t) {
                log.error("Taking job {} failed unexpectedly; releasing its record", LogText.of(record.key(), 100),
                        t);
                taken = JobRunner.Taken.done(AcknowledgeType.RELEASE);
            }
            acknowledge.complete(taken.acknowledge());
            if (taken.rest() != null) {
                if (taken.afterCommit()) {
                    committed.join();
                }
                taken.rest().run();
            }
        }
    }

    private record Taking(ConsumerRecord<String, String> record, CompletableFuture<AcknowledgeType> acknowledge) {
    }
}
