package dev.conveyor.api.workers;

import dev.conveyor.api.results.EventReader;
import dev.conveyor.common.Json;
import dev.conveyor.common.Threads;
import dev.conveyor.common.Topics;
import dev.conveyor.common.log.LogInterval;
import dev.conveyor.common.log.LogText;
import dev.conveyor.common.message.WorkerHeartbeat;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Reads all of {@code conveyor.workers} into the {@link WorkerTable}, from the beginning, on every api instance.
 *
 * <p>A plain consumer with no group: it assigns itself every partition, so each instance reads everything, and it
 * commits nothing, because every start re-reads the compacted topic anyway. (A {@code @KafkaListener} would take
 * the api's group id from the configuration and commit under it from outside that group, which has members (the
 * events listeners): the broker refuses such commits, and the client reports a misleading CommitFailedException.)
 */
@Component
class HeartbeatReader implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(HeartbeatReader.class);
    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration RETRY = Duration.ofSeconds(1);
    private static final Duration CATCH_UP_CHECK = Duration.ofMillis(500);
    private static final Duration CLOSE = Duration.ofSeconds(1);
    private static final Duration UNREADABLE_LOGGED_EVERY = Duration.ofMinutes(1);

    private final WorkerTable table;
    private final Clock clock;
    private final Map<String, Object> config;
    private final LogInterval unreadable = new LogInterval(UNREADABLE_LOGGED_EVERY);
    private volatile boolean running;
    private volatile Consumer<String, String> consumer;
    private Thread reader;

    HeartbeatReader(WorkerTable table, Clock clock, KafkaProperties kafka) {
        this.table = table;
        this.clock = clock;
        var config = new HashMap<>(kafka.buildConsumerProperties());
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // Kafka would create a missing topic with the broker's defaults: not compacted.
        config.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "conveyor-api-workers");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        this.config = Map.copyOf(config);
    }

    private void run() {
        while (running) {
            var opened = new KafkaConsumer<String, String>(config);
            try {
                consumer = opened;
                read(opened);
            } catch (WakeupException | InterruptException e) {
                return;
            } catch (RuntimeException e) {
                if (!running) {
                    return;
                }
                // Starting over is safe: the table takes the whole topic again, with backlog rules.
                log.warn("Reading {} failed (starting over): {}", Topics.WORKERS, e.getMessage());
                if (!pause()) {
                    return;
                }
            } finally {
                close(opened);
            }
        }
    }

    /**
     * Closes within the stop's patience, so that the stop need not interrupt the close, which Kafka logs as an error
     * with its stack when Kafka hangs. The consumer has no group and nothing to commit.
     */
    private static void close(Consumer<String, String> consumer) {
        try {
            consumer.close(CloseOptions.timeout(CLOSE));
        } catch (RuntimeException e) {
            log.warn("Closing the reader of {} failed: {}", Topics.WORKERS, e.getMessage());
        }
    }

    private void read(Consumer<String, String> consumer) {
        var partitions = partitions(consumer);
        if (partitions.isEmpty()) {
            return;
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        // What is already on the topic now is backlog: it arrives now, but was not sent now.
        var backlogEnds = consumer.endOffsets(partitions);
        // Only a read up to date makes a silent worker's silence mean anything. A poll that returns nothing does not
        // say so by itself (it returns nothing when Kafka is unreachable too): the broker's end offsets do.
        var catchUp = new CatchUp(clock, CATCH_UP_CHECK, WorkerTable.MAX_READ_GAP);
        while (running) {
            for (var record : consumer.poll(POLL)) {
                var end = backlogEnds.get(new TopicPartition(record.topic(), record.partition()));
                apply(record, end != null && record.offset() < end);
            }
            catchUp.check(consumer, partitions).ifPresent(table::caughtUp);
        }
    }

    /** The topic's partitions, once it exists (the api creates it at start-up, but Kafka may be down then). */
    private List<TopicPartition> partitions(Consumer<String, String> consumer) {
        for (var waited = false; running; waited = true) {
            var infos = consumer.partitionsFor(Topics.WORKERS);
            if (infos != null && !infos.isEmpty()) {
                return infos.stream().map(info -> new TopicPartition(info.topic(), info.partition())).toList();
            }
            if (!waited) {
                log.info("Topic {} does not exist yet; waiting for it", Topics.WORKERS);
            }
            if (!pause()) {
                break;
            }
        }
        return List.of();
    }

    /** Takes one record of the topic into the table ({@code backlog}: it was on the topic when reading began). */
    void apply(ConsumerRecord<String, String> record, boolean backlog) {
        if (record.key() == null) {
            return;
        }
        // the id as the attempts it ran are stored with (a worker's own key is anyone's to write)
        var id = EventReader.workerId(record.key());
        if (record.value() == null) {
            table.forget(id);
            return;
        }
        try {
            var heartbeat = Json.read(record.value(), WorkerHeartbeat.class);
            table.heard(id, heartbeat, Instant.ofEpochMilli(record.timestamp()), backlog);
        } catch (RuntimeException e) {
            // the key and the value are anyone's to write: line breaks, terminal escapes, a megabyte, and as many
            // records as they like
            var heldBack = unreadable.pass();
            if (heldBack >= 0) {
                log.warn("Ignoring an unreadable heartbeat of {} at offset {}: {}{}", LogText.of(id, 100),
                        record.offset(), LogText.of(e.getMessage(), 500), LogInterval.heldBack(heldBack));
            }
        }
    }

    private boolean pause() {
        try {
            Thread.sleep(RETRY);
            return running;
        } catch (InterruptedException e) {
            return false;
        }
    }

    @Override
    public void start() {
        running = true;
        reader = Thread.ofPlatform().daemon().name("workers-reader").start(this::run);
    }

    @Override
    public void stop() {
        running = false;
        var current = consumer;
        if (current != null) {
            current.wakeup();
        }
        Threads.joinOrInterrupt(reader, POLL.multipliedBy(4));
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
