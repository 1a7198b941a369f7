package dev.conveyor.worker;

import dev.conveyor.common.Topics;
import dev.conveyor.common.kafka.QueueTopics;
import dev.conveyor.common.kafka.WorkersTopic;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.kafka.autoconfigure.DefaultKafkaProducerFactoryCustomizer;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.core.DefaultShareConsumerFactory;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.core.ShareConsumerFactory;
import org.springframework.kafka.support.ProducerListener;

/** The worker's Kafka clients. Boot does not configure share consumers, so this does. */
@Configuration(proxyBeanMethods = false)
class WorkerKafkaSetup {

    /** Long enough for any job (timeoutSeconds is at most a day): the loop waits for its jobs between polls. */
    private static final int MAX_POLL_INTERVAL_MS = 25 * 60 * 60 * 1000;

    @Bean
    Clock clock() {
        return Clock.systemUTC();
    }

    @Bean
    ShareConsumerFactory<String, String> shareConsumerFactory(KafkaProperties kafka, WorkerProperties worker) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, String.join(",", kafka.getBootstrapServers()));
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        config.put(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, worker.maxPollRecords());
        config.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, MAX_POLL_INTERVAL_MS);
        config.putAll(kafka.getProperties());
        return new DefaultShareConsumerFactory<>(config);
    }

    @Bean(destroyMethod = "") // closed by workerAdminClientCloser, in time
    Admin workerAdminClient(KafkaAdmin admin) {
        return Admin.create(admin.getConfigurationProperties());
    }

    /** Closes the admin client within {@link ShutdownWaits#PRODUCER_CLOSE} (its own close waits out every call). */
    @Bean
    DisposableBean workerAdminClientCloser(Admin admin) {
        return () -> admin.close(ShutdownWaits.PRODUCER_CLOSE);
    }

    /** The producer closes within {@link ShutdownWaits#PRODUCER_CLOSE}, not Spring's 30 s. */
    @Bean
    DefaultKafkaProducerFactoryCustomizer producerClosesInTime() {
        return factory -> factory.setPhysicalCloseTimeout((int) ShutdownWaits.PRODUCER_CLOSE.toSeconds());
    }

    /**
     * Replaces Boot's {@code LoggingProducerListener}, which logs every failed send as an error with its stack trace
     * and the first 100 characters of the record: each send of the worker handles its own failure (a warning naming
     * the job, a heartbeat's once per outage), and the records are jobs' results. With Kafka unreachable it logged one
     * stack trace per heartbeat held back (one a second) when the producer closed.
     */
    @Bean
    ProducerListener<Object, Object> kafkaProducerListener() {
        return new ProducerListener<>() {
        };
    }

    @Bean
    QueueTopics queueTopics(Admin admin, WorkerProperties worker) {
        var topics = new QueueTopics(admin, worker.queuePartitions(), worker.replicationFactor());
        topics.createTopic(Topics.EVENTS, worker.queuePartitions(), Map.of());
        topics.createTopic(Topics.CONTROL, 1, Map.of());
        topics.createTopic(Topics.WORKERS, WorkersTopic.PARTITIONS, WorkersTopic.CONFIGS);
        return topics;
    }
}
