package dev.conveyor.local.bench;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The bare path: the least a durable job queue on Kafka and PostgreSQL does per job, hand-written with plain JDBC and
 * kafka-clients in the benchmark's JVM, with Conveyor's Kafka settings. The "api" inserts jobs and commits, then
 * sends one record per job to {@value #JOBS}; the "worker" (share consumers, as Conveyor's) sends each job's result to
 * {@value #RESULTS}, waits until Kafka has the poll's results, accepts the records and commits the acknowledgements;
 * the api's consumer stores the results of a poll with one {@code UPDATE}, then commits its offsets. Nothing is
 * parsed, no event but the result is sent, and nothing else is written: a floor under Conveyor's path, not a rival.
 */
final class BarePath implements AutoCloseable {

    static final String JOBS = "bench-floor.jobs";
    static final String RESULTS = "bench-floor.results";
    static final String SHARE_GROUP = "bench-floor";
    static final String RESULTS_GROUP = "bench-floor-api";
    /** As Conveyor's queue topics and {@code conveyor.events}: {@code conveyor.api.queue-partitions} (3). */
    static final int PARTITIONS = 3;
    /** As the worker's {@code conveyor.worker.consumers-per-queue} (4). */
    static final int SHARE_CONSUMERS = 4;

    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(10);
    private static final long ADMIN_TIMEOUT_SECONDS = 30;

    private final FloorTarget target;
    private final FloorStore store;
    private final DataSource dataSource;
    private final KafkaProducer<String, String> apiProducer;
    private final KafkaProducer<String, String> workerProducer;
    private final List<Thread> loops = new ArrayList<>();
    private final List<KafkaShareConsumer<String, String>> shareConsumers = new ArrayList<>();
    private final KafkaConsumer<String, String> resultsConsumer;
    private volatile FloorRun current;
    private volatile Throwable broken;
    private volatile boolean running = true;

    /** Creates the topics and the share group's start, and starts the worker's and the api's consumers. */
    BarePath(FloorTarget target, FloorStore store, DataSource dataSource) {
        this.target = target;
        this.store = store;
        this.dataSource = dataSource;
        prepareTopics();
        apiProducer = new KafkaProducer<>(apiProducerConfig(), new StringSerializer(), new StringSerializer());
        workerProducer = new KafkaProducer<>(workerProducerConfig(), new StringSerializer(), new StringSerializer());
        for (var n = 1; n <= SHARE_CONSUMERS; n++) {
            shareConsumers.add(new KafkaShareConsumer<>(shareConsumerConfig(), new StringDeserializer(),
                    new StringDeserializer()));
        }
        resultsConsumer = new KafkaConsumer<>(resultsConsumerConfig(), new StringDeserializer(), new StringDeserializer());
        for (var n = 0; n < SHARE_CONSUMERS; n++) {
            var consumer = shareConsumers.get(n);
            loops.add(Thread.ofPlatform().daemon().name("floor-worker-" + (n + 1)).start(() -> work(consumer)));
        }
        loops.add(Thread.ofPlatform().daemon().name("floor-results").start(this::applyResults));
    }

    /** The api's producer: {@code spring.kafka.producer} of {@code conveyor-api.yml}. */
    private Map<String, Object> apiProducerConfig() {
        var config = workerProducerConfig();
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 15_000);
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        return config;
    }

    /** The worker's producer: {@code spring.kafka.producer} of {@code conveyor-worker.yml}. */
    private Map<String, Object> workerProducerConfig() {
        var config = new HashMap<String, Object>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrap());
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, 131_072);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 1);
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        return config;
    }

    /** The worker's share consumers: {@code WorkerKafkaSetup} with the default {@code max-poll-records} (100). */
    private Map<String, Object> shareConsumerConfig() {
        return Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrap(),
                ConsumerConfig.GROUP_ID_CONFIG, SHARE_GROUP,
                ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 100,
                ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 25 * 60 * 60 * 1000);
    }

    /**
     * The api's consumer of outcomes: {@code spring.kafka.consumer} of {@code conveyor-api.yml}, with offsets committed
     * after each poll's batch is stored (Spring Kafka's batch ack mode, one listener).
     */
    private Map<String, Object> resultsConsumerConfig() {
        return Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrap(),
                ConsumerConfig.GROUP_ID_CONFIG, RESULTS_GROUP,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1000,
                ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6000,
                ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 2000);
    }

    /** Both topics, and the share group set to start at the earliest offset (a new one starts at the latest). */
    private void prepareTopics() {
        try (var admin = Admin.create(Map.of("bootstrap.servers", target.bootstrap()))) {
            for (var topic : List.of(JOBS, RESULTS)) {
                try {
                    admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all()
                            .get(ADMIN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            var group = new ConfigResource(ConfigResource.Type.GROUP, SHARE_GROUP);
            var earliest = new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"),
                    AlterConfigOp.OpType.SET);
            admin.incrementalAlterConfigs(Map.of(group, List.of(earliest))).all()
                    .get(ADMIN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot prepare the bare path's topics: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Makes {@code run} the one whose ends are recorded; fails if a loop of the path has failed. */
    void begin(FloorRun run) {
        if (broken != null) {
            throw new IllegalStateException("bare path failed: " + broken, broken);
        }
        current = run;
    }

    /** The api's publish after its insert committed: asynchronous, a failure fails the run. */
    void publish(FloorRun run, int job) {
        apiProducer.send(new ProducerRecord<>(JOBS, run.id(job).toString(), FloorRun.payload(job)), (sent, failure) -> {
            if (failure != null) {
                run.fail(failure);
            }
        });
    }

    /**
     * A worker's loop: per poll, sends every job's result (a noop job's result is its payload), waits until Kafka has
     * them all, then accepts the records and commits the acknowledgements, as Conveyor's worker does per poll.
     */
    private void work(KafkaShareConsumer<String, String> consumer) {
        try (consumer) {
            consumer.subscribe(List.of(JOBS));
            while (running) {
                var records = consumer.poll(POLL);
                if (records.isEmpty()) {
                    continue;
                }
                var sent = new ArrayList<Future<RecordMetadata>>(records.count());
                for (var record : records) {
                    sent.add(workerProducer.send(new ProducerRecord<>(RESULTS, record.key(), record.value())));
                }
                for (var result : sent) {
                    result.get();
                }
                records.forEach(record -> consumer.acknowledge(record, AcknowledgeType.ACCEPT));
                consumer.commitSync(COMMIT_TIMEOUT);
            }
        } catch (WakeupException e) {
            // closing
        } catch (Exception e) {
            failCurrent(e);
        }
    }

    /** The api's loop: stores the results of one poll with one statement, then commits the poll's offsets. */
    private void applyResults() {
        try (var consumer = resultsConsumer) {
            consumer.subscribe(List.of(RESULTS));
            while (running) {
                var records = consumer.poll(POLL);
                if (records.isEmpty()) {
                    continue;
                }
                var ids = new UUID[records.count()];
                var results = new String[ids.length];
                var i = 0;
                for (var record : records) {
                    ids[i] = UUID.fromString(record.key());
                    results[i++] = record.value();
                }
                List<UUID> ended;
                try (var connection = dataSource.getConnection()) {
                    ended = store.end(connection, ids, results);
                }
                var at = System.nanoTime();
                var run = current;
                if (run != null) {
                    run.ended(ended, at);
                }
                consumer.commitSync();
            }
        } catch (WakeupException e) {
            // closing
        } catch (SQLException | RuntimeException e) {
            failCurrent(e);
        }
    }

    private void failCurrent(Throwable e) {
        if (!running) {
            return;
        }
        broken = e;
        var run = current;
        if (run != null) {
            run.fail(e);
        }
    }

    @Override
    public void close() {
        running = false;
        shareConsumers.forEach(KafkaShareConsumer::wakeup);
        resultsConsumer.wakeup();
        for (var loop : loops) {
            try {
                loop.join(TimeUnit.SECONDS.toMillis(15));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        apiProducer.close(Duration.ofSeconds(10));
        workerProducer.close(Duration.ofSeconds(10));
    }
}
