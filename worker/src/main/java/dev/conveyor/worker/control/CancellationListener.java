package dev.conveyor.worker.control;

import dev.conveyor.common.Json;
import dev.conveyor.common.Threads;
import dev.conveyor.common.Topics;
import dev.conveyor.common.log.LogText;
import dev.conveyor.common.message.CancelJob;
import dev.conveyor.worker.ShutdownWaits;
import dev.conveyor.worker.execute.RunningAttempts;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
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

    private final Consumer<String, String> consumer;
    private final RunningAttempts attempts;
    private volatile boolean running;
    private Thread thread;

    CancellationListener(KafkaProperties kafka, RunningAttempts attempts) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, String.join(",", kafka.getBootstrapServers()));
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.putAll(kafka.getProperties());
        this.consumer = new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer());
        this.attempts = attempts;
    }

    @Override
    public void start() {
        var partitions = consumer.partitionsFor(Topics.CONTROL, CATCH_UP).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        var end = consumer.endOffsets(partitions, CATCH_UP);
        var deadline = Instant.now().plus(CATCH_UP);
        while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
            if (Instant.now().isAfter(deadline)) {
                throw new IllegalStateException("Could not read " + Topics.CONTROL + " within " + CATCH_UP);
            }
            apply(consumer.poll(Duration.ofMillis(200)));
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
                log.warn("Reading cancellations failed (retrying in a second): {}", e.getMessage());
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
            } catch (RuntimeException e) {
                // the reader's words quote the record, which is anyone's to write: line breaks, terminal escapes
                log.error("Skipping an unreadable cancellation at {}-{}@{}: {}", record.topic(), record.partition(),
                        record.offset(), LogText.of(e.getMessage(), 500));
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
