package dev.conveyor.worker.control;

import dev.conveyor.common.Threads;
import dev.conveyor.common.Topics;
import dev.conveyor.common.log.LogInterval;
import dev.conveyor.common.log.LogText;
import dev.conveyor.worker.ShutdownWaits;
import dev.conveyor.worker.execute.RunningAttempts;
import java.time.Duration;
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
    private static final Duration CATCH_UP_POLL = Duration.ofMillis(200);
    /** The least wait for a position once the window has passed: time for an answer Kafka's client has already. */
    private static final Duration MIN_WAIT = Duration.ofMillis(1);
    /**
     * How often each kind of line below is logged at most, with a count of those held back: whoever can write to
     * {@code conveyor.control} can write unreadable records as fast as they like, and a failure that lasts (leave to
     * read the topic withdrawn) came back every second.
     */
    private static final Duration LOGGED_EVERY = Duration.ofMinutes(1);

    private final Consumer<String, String> consumer;
    private final CancellationRecords records;
    private final Duration catchUp;
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
        this(consumer(kafka), attempts, catchUp, loggedEvery);
    }

    /** Reading {@code conveyor.control} with {@code consumer}, which it closes when it stops. */
    CancellationListener(Consumer<String, String> consumer, RunningAttempts attempts, Duration catchUp,
            Duration loggedEvery) {
        this.catchUp = catchUp;
        this.records = new CancellationRecords(attempts, loggedEvery);
        this.failures = new LogInterval(loggedEvery);
        this.consumer = consumer;
    }

    private static Consumer<String, String> consumer(KafkaProperties kafka) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, String.join(",", kafka.getBootstrapServers()));
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.putAll(kafka.getProperties());
        return new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer());
    }

    /**
     * Reads every cancellation kept before the worker takes a job. It fails (and the worker does not start, saying
     * why) when Kafka does not answer, or the reading stops getting further, for {@link #CATCH_UP}; a long topic read
     * steadily may take longer: a limit on the whole read would stop every worker's start, at each restart, for as
     * long as the cancellations were kept. It fails too when the JVM cannot apply a cancellation (its heap ran out:
     * see {@link CancellationRecords}); a record that cannot be read is skipped.
     */
    @Override
    public void start() {
        try {
            catchUp();
        } catch (RuntimeException e) {
            try {
                consumer.close(ShutdownWaits.CANCELLATIONS_CLOSE);
            } catch (RuntimeException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
        running = true;
        thread = Thread.ofPlatform().daemon().name("cancellations").start(this::listen);
    }

    private void catchUp() {
        List<TopicPartition> partitions;
        Map<TopicPartition, Long> end;
        try {
            partitions = consumer.partitionsFor(Topics.CONTROL, catchUp).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            end = consumer.endOffsets(partitions, catchUp);
        } catch (RuntimeException e) {
            throw cannotRead(e.getMessage(), e);
        }
        var stalledAt = System.nanoTime() + catchUp.toNanos();
        while (behind(partitions, end, stalledAt)) {
            if (System.nanoTime() - stalledAt > 0) {
                throw cannotRead("no record came for " + catchUp, null);
            }
            ConsumerRecords<String, String> polled;
            try {
                polled = consumer.poll(CATCH_UP_POLL);
            } catch (RuntimeException e) {
                throw cannotRead(e.getMessage(), e);
            }
            var unapplied = records.apply(polled);
            if (unapplied != null) {
                throw cannotRead("the cancellation at " + unapplied.at() + " could not be applied: "
                        + unapplied.error(), unapplied.error());
            }
            if (!polled.isEmpty()) {
                stalledAt = System.nanoTime() + catchUp.toNanos();
            }
        }
    }

    /**
     * Whether a partition is not read to its end yet. Its position is Kafka's to tell at first (the beginning of a
     * partition not read yet), and is waited for until the window ends, not for Kafka's {@code default.api.timeout.ms}
     * (a minute), which held a worker's start that long when Kafka stopped answering after the end offsets.
     */
    private boolean behind(List<TopicPartition> partitions, Map<TopicPartition, Long> end, long stalledAt) {
        try {
            for (var partition : partitions) {
                var left = Duration.ofNanos(Math.max(stalledAt - System.nanoTime(), MIN_WAIT.toNanos()));
                if (consumer.position(partition, left) < end.get(partition)) {
                    return true;
                }
            }
            return false;
        } catch (RuntimeException e) {
            throw cannotRead(e.getMessage(), e);
        }
    }

    private static IllegalStateException cannotRead(String why, Throwable cause) {
        return new IllegalStateException("Could not read " + Topics.CONTROL + ", which the worker reads whole before "
                + "it takes a job: " + why, cause);
    }

    private void listen() {
        while (running) {
            try {
                var unapplied = records.apply(consumer.poll(Duration.ofSeconds(1)));
                if (unapplied != null) {
                    unapplied.readAgain().forEach(consumer::seek);
                    var heldBack = failures.pass();
                    if (heldBack >= 0) {
                        log.error("Could not apply the cancellation at {} (it is read again in a second, with the "
                                + "records after it){}", unapplied.at(), LogInterval.heldBack(heldBack),
                                unapplied.error());
                    }
                    pause();
                }
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
