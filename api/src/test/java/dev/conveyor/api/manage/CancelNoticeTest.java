package dev.conveyor.api.manage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import dev.conveyor.common.message.CancelJob;
import dev.conveyor.common.test.HttpJson;
import dev.conveyor.common.test.TestKafka;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A cancel reaches the workers on {@code conveyor.control} even when the api that made it could not send it: it died
 * between its commit and the send, or Kafka did not take it. Either leaves the cancellation in {@code unsent_cancels},
 * as the test writes it here, and the api sends it again.
 */
@ApiTest
class CancelNoticeTest {

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
    }

    @LocalServerPort
    int port;
    @Autowired
    JdbcClient jdbc;
    @Autowired
    ControlPublisher control;

    HttpJson http;

    @BeforeEach
    void client() {
        http = ApiTests.client(port);
    }

    @Test
    void aCancelSentToKafkaLeavesNothingToSendAgain() {
        var id = http.post("/v1/jobs", "{\"type\": \"echo\", \"delaySeconds\": 3600}").json().get("id").asString();

        var cancelled = http.post("/v1/jobs/" + id + "/cancel", "");

        assertThat(cancelled.status()).as(cancelled.text()).isEqualTo(202);
        assertThat(cancels(UUID.fromString(id), Duration.ofSeconds(30))).containsExactly(0);
        assertThat(unsent(UUID.fromString(id))).isZero();
    }

    @Test
    void aCancelLeftUnsentIsSentAgain() {
        var id = http.post("/v1/jobs", "{\"type\": \"echo\", \"delaySeconds\": 3600}").json().get("id").asString();
        var jobId = UUID.fromString(id);
        // what an api leaves that died after committing the cancel, before Kafka had it
        jdbc.sql("""
                UPDATE jobs SET status = 'CANCELLED', finished_at = now(), cancel_requested_at = now(),
                    updated_at = now()
                WHERE id = :id""").param("id", jobId).update();
        jdbc.sql("INSERT INTO unsent_cancels (job_id, generation, requested_at) "
                + "VALUES (:id, 0, now() - interval '1 minute')").param("id", jobId).update();

        assertThat(cancels(jobId, Duration.ofSeconds(30))).containsExactly(0);
        await().atMost(Duration.ofSeconds(10)).until(() -> unsent(jobId) == 0);
    }

    @Test
    void aCancelJustMadeIsLeftToTheRequestThatMadeIt() {
        var jobId = UUID.randomUUID();
        jdbc.sql("INSERT INTO unsent_cancels (job_id, generation) VALUES (:id, 2)").param("id", jobId).update();

        control.resend();

        // the request that made it may still be waiting for Kafka to take it
        assertThat(unsent(jobId)).isOne();
    }

    private int unsent(UUID jobId) {
        return jdbc.sql("SELECT count(*) FROM unsent_cancels WHERE job_id = :id").param("id", jobId)
                .query(Integer.class).single();
    }

    /** The generations of the cancellations of {@code jobId} on {@code conveyor.control}, once there is one. */
    private static List<Integer> cancels(UUID jobId, Duration within) {
        var generations = new ArrayList<Integer>();
        try (var consumer = new KafkaConsumer<String, String>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers(),
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class))) {
            var partitions = consumer.partitionsFor(Topics.CONTROL).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            await().atMost(within).until(() -> {
                for (var record : consumer.poll(Duration.ofMillis(200))) {
                    var cancel = Json.read(record.value(), CancelJob.class);
                    if (cancel.jobId().equals(jobId)) {
                        generations.add(cancel.generation());
                    }
                }
                return !generations.isEmpty();
            });
        }
        return generations;
    }
}
