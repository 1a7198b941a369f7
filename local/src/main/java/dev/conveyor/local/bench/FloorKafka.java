package dev.conveyor.local.bench;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The bare path's Kafka clients and topics, each setting Conveyor's own (its {@code conveyor-api.yml},
 * {@code conveyor-worker.yml}, {@code WorkerKafkaSetup} and property defaults), so that the floor is not tuned to
 * look better or worse than what Conveyor asks of the same broker.
 */
final class FloorKafka {

    static final String SHARE_GROUP = "bench-floor";
    static final String RESULTS_GROUP = "bench-floor-api";
    /** As Conveyor's queue topics and {@code conveyor.events}: {@code conveyor.api.queue-partitions} (3). */
    static final int PARTITIONS = 3;
    /**
     * Four, though the worker's {@code conveyor.worker.consumers-per-queue} is 1: the floor acknowledges a poll's
     * records only after their work (Conveyor's worker accepts them as the jobs start), so its consumers are its
     * concurrency, and with one its W2 was held to a poll's records per 50 ms exchange (2,608 jobs/s against 4,450).
     */
    static final int SHARE_CONSUMERS = 4;
    /** As {@code conveyor.api.replication-factor} (1): one broker. */
    static final short REPLICATION_FACTOR = 1;
    private static final long ADMIN_TIMEOUT_SECONDS = 30;

    private final String bootstrap;

    FloorKafka(String bootstrap) {
        this.bootstrap = bootstrap;
    }

    /** The api's producer: {@code spring.kafka.producer} of {@code conveyor-api.yml}. */
    Map<String, Object> apiProducer() {
        var config = workerProducer();
        // the api bounds a publish so that it ends before the job's dispatch lease; no effect on a healthy broker
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 15_000);
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        return config;
    }

    /** The worker's producer: {@code spring.kafka.producer} of {@code conveyor-worker.yml}. */
    Map<String, Object> workerProducer() {
        var config = new HashMap<String, Object>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.ACKS_CONFIG, "all"); // acks: all
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, 131_072); // batch-size: 128 KiB per partition and request
        config.put(ProducerConfig.LINGER_MS_CONFIG, 1); // linger.ms: 1
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true); // enable.idempotence: true
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000); // max.block.ms: 10 s
        return config;
    }

    /** The worker's share consumers: {@code WorkerKafkaSetup} with the default {@code max-poll-records} (100). */
    Map<String, Object> shareConsumer() {
        return Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, SHARE_GROUP,
                // each record acknowledged by itself, then the poll's acknowledgements committed
                ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit",
                // conveyor.worker.max-poll-records: 100
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 100,
                // a day and an hour: the worker waits for its jobs between polls (no effect here)
                ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 25 * 60 * 60 * 1000);
    }

    /**
     * The api's consumer of outcomes: {@code spring.kafka.consumer} of {@code conveyor-api.yml}, with offsets committed
     * after each poll's batch is stored (Spring Kafka's batch ack mode, one listener).
     */
    Map<String, Object> resultsConsumer() {
        return Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, RESULTS_GROUP,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest", // auto-offset-reset: earliest
                // Spring Kafka's listener commits itself, after each batch (ack-mode: batch)
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1000, // max-poll-records: 1000
                ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6000, // session.timeout.ms: 6 s
                ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 2000); // heartbeat.interval.ms: 2 s
    }

    /** Both topics, and the share group set to start at the earliest offset (a new one starts at the latest). */
    void prepareTopics() {
        try (var admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            for (var topic : List.of(BarePath.JOBS, BarePath.RESULTS)) {
                try {
                    admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, REPLICATION_FACTOR))).all()
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
}
