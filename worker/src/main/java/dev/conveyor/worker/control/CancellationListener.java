package dev.conveyor.worker.control;

import dev.conveyor.common.Json;
import dev.conveyor.common.Threads;
import dev.conveyor.common.Topics;
import dev.conveyor.common.log.LogInterval;
import dev.conveyor.common.log.LogText;
import dev.conveyor.common.message.CancelJob;
import dev.conveyor.worker.ShutdownWaits;
import dev.conveyor.worker.execute.RunningAttempts;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Reads every cancellation on {@code conveyor.control}, from the beginning, as every worker must (so no consumer
 * group: each worker assigns itself all partitions). It catches up before the worker takes its first job, so a job
 * cancelled while its record waited on Kafka is skipped even by a worker that starts later.
 */
@Component
class CancellationListener implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(CancellationListener.class);
    private static final Duration CATCH_UP = Duration.ofSeconds(30);
    /**
     * How often each kind of line below is logged at most, with a count of those held back: whoever can write to
     * {@code conveyor.control} can write unreadable records as fast as they like, and a failure that lasts (leave to
     * read the topic withdrawn) came back every second.
     */
    private static final Duration LOGGED_EVERY = Duration.ofMinutes(1);

    private final Consumer<String, String> consumer;
    private final RunningAttempts attempts;
    private final Duration catchUp;
    private final LogInterval unreadable;
    private final LogInterval failures;
    private volatile boolean running;
    private Thread thread;

    @Autowired
    CancellationListener(KafkaProperties kafka, RunningAttempts attempts) {
        this(kafka, attempts, CATCH_UP);
    }

    CancellationListener(KafkaProperties kafka, RunningAttempts attempts, Duration catchUp) {
        this(kafka, attempts, catchUp, LOGGED_EVERY);
    }

    /** {@code loggedEvery}: how often a line about an unreadable record, or about failing reads, is logged at most. */
    CancellationListener(KafkaProperties kafka, RunningAttempts attempts, Duration catchUp, Duration loggedEvery) {
        this.catchUp = catchUp;
        this.unreadable = new LogInterval(loggedEvery);
        this.failures = new LogInterval(loggedEvery);
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, String.join(",", kafka.getBootstrapServers()));
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.putAll(kafka.getProperties());
        this.consumer = new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer());
        this.attempts = attempts;
    }

    /**
     * Reads every cancellation kept before the worker takes a job. It fails (and the worker does not start, saying
     * why) when Kafka does not answer, or the reading stops getting further, for {@link #CATCH_UP}; a long topic read
     * steadily may take longer: a limit on the whole read would stop every worker's start, at each restart, for as
     * long as the cancellations were kept.
     */
    @Override
    public void start() {
        List<TopicPartition> partitions;
        Map<TopicPartition, Long> end;
        try {
            partitions = consumer.partitionsFor(Topics.CONTROL, catchUp).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            end = consumer.endOffsets(partitions, catchUp);
        } catch (RuntimeException e) {
            throw new IllegalStateException("Could not read " + Topics.CONTROL + ", which the worker reads whole "
                    + "before it takes a job: " + e.getMessage(), e);
        }
        var stalledAt = Instant.now().plus(catchUp);
        while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
            if (Instant.now().isAfter(stalledAt)) {
                throw new IllegalStateException("Could not read " + Topics.CONTROL + ", which the worker reads whole "
                        + "before it takes a job: no record came for " + catchUp);
            }
            var records = consumer.poll(Duration.ofMillis(200));
            apply(records);
            if (!records.isEmpty()) {
                stalledAt = Instant.now().plus(catchUp);
            }
        }
        running = true;
        thread = Thread.ofPlatform().daemon().name("cancellations").start(this::listen);
    }

    private void listen() {
        while (running) {
            try {
                apply(consumer.poll(Duration.ofSeconds(1)));
            } catch (WakeupException e) {
                // stopping
            } catch (RuntimeException e) {
                var heldBack = failures.pass();
                if (heldBack >= 0) {
                    log.warn("Reading cancellations failed (retrying every second): {}{}",
                            LogText.of(e.getMessage(), 500), LogInterval.heldBack(heldBack));
                }
                pause();
            } catch (Throwable e) {
                // an Error ended this thread, silently: no cancellation was heard of again until a restart
                var heldBack = failures.pass();
                if (heldBack >= 0) {
                    log.error("Reading cancellations failed (retrying every second){}", LogInterval.heldBack(heldBack),
                            e);
                }
                pause();
            }
        }
        consumer.close(ShutdownWaits.CANCELLATIONS_CLOSE);
    }

    private static void pause() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void apply(ConsumerRecords<String, String> records) {
        for (var record : records) {
            try {
                var cancel = Json.read(record.value(), CancelJob.class);
                if (cancel == null || cancel.v() != CancelJob.VERSION || cancel.jobId() == null
                        || cancel.generation() < 0) {
                    throw new IllegalArgumentException("not a version " + CancelJob.VERSION
                            + " cancellation with a jobId and a generation of 0 or more");
                }
                attempts.cancel(cancel.jobId(), cancel.generation(), madeAt(record.timestamp()));
            } catch (RuntimeException | StackOverflowError e) {
                // the reader's words quote the record, which is anyone's to write: line breaks, terminal escapes. A
                // record that overflows the stack is skipped too: it stopped the worker's start for as long as it
                // was kept (a week), or ended the listening for good.
                var heldBack = unreadable.pass();
                if (heldBack >= 0) {
                    log.error("Skipping an unreadable cancellation at {}-{}@{}: {}{}", record.topic(),
                            record.partition(), record.offset(), LogText.of(e instanceof StackOverflowError
                                    ? "it overflowed the stack" : e.getMessage(), 500), LogInterval.heldBack(heldBack));
                }
            }
        }
    }

    /**
     * When a cancellation was made: its record's time (so that the week it is remembered counts from then, not from
     * this worker's start), never later than now; now for a record without one.
     */
    private static Instant madeAt(long timestamp) {
        var now = Instant.now();
        return timestamp < 0 || timestamp > now.toEpochMilli() ? now : Instant.ofEpochMilli(timestamp);
    }

    @Override
    public void stop() {
        running = false;
        consumer.wakeup();
        Threads.joinOrInterrupt(thread, Duration.ofSeconds(10));
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Starts before the queue consumers (so it has caught up when they take jobs) and stops after them. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 2048;
    }
}
