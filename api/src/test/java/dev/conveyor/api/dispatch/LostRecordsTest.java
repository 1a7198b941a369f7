package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.Json;
import dev.conveyor.common.message.JobDispatch;
import dev.conveyor.common.test.HttpJson;
import java.time.Duration;
import java.util.UUID;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A job whose record Kafka archives without a start (rejected, or released up to the delivery limit) is put back
 * and published again; a job whose record a worker took after reporting its start is not.
 */
@ApiTest
class LostRecordsTest {

    private static final Logger log = LoggerFactory.getLogger(LostRecordsTest.class);
    private static final Duration REDISPATCHED_WITHIN = Duration.ofSeconds(60);

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
        registry.add("conveyor.api.dispatch.reconcile-interval", () -> "500ms");
    }

    @LocalServerPort
    int port;
    @Autowired
    JdbcClient jdbc;

    HttpJson http;

    @BeforeEach
    void client() {
        http = ApiTests.client(port);
    }

    private UUID submit(String queue) {
        var job = http.post("/v1/jobs", "{\"type\": \"echo\", \"queue\": \"" + queue + "\"}").json();
        return UUID.fromString(job.get("id").asString());
    }

    private static String newQueue(String name) {
        return name + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private String status(UUID id) {
        return jdbc.sql("SELECT status FROM jobs WHERE id = :id").param("id", id).query(String.class).single();
    }

    @Nested
    class ArchivedWithoutAStart {

        @Test
        void aRejectedRecordIsPublishedAgain() {
            var queue = newQueue("rejected");
            var id = submit(queue);
            try (var worker = new TestShareConsumer(queue)) {
                var first = worker.next(id, Duration.ofSeconds(30));
                worker.acknowledge(first, AcknowledgeType.REJECT);
                var lostAt = System.nanoTime();

                var again = worker.next(id, REDISPATCHED_WITHIN);
                log.info("Rejected record of job {} published again after {} ms", id,
                        (System.nanoTime() - lostAt) / 1_000_000);
                worker.acknowledge(again, AcknowledgeType.RELEASE);

                assertThat(again.offset()).isNotEqualTo(first.offset());
                var dispatch = Json.read(again.value(), JobDispatch.class);
                assertThat(dispatch.attempt()).isEqualTo(1);
                assertThat(status(id)).isEqualTo("QUEUED");
            }
        }

        @Test
        void aRecordReleasedUpToTheDeliveryLimitIsPublishedAgain() {
            var queue = newQueue("released");
            var id = submit(queue);
            try (var worker = new TestShareConsumer(queue)) {
                var first = worker.next(id, Duration.ofSeconds(30));
                var record = first;
                var releases = 0;
                while (record.offset() == first.offset() && record.partition() == first.partition()) {
                    worker.acknowledge(record, AcknowledgeType.RELEASE);
                    releases++;
                    record = worker.next(id, REDISPATCHED_WITHIN);
                }
                worker.acknowledge(record, AcknowledgeType.RELEASE);

                // group.share.delivery.count.limit, 5 unless the broker says otherwise
                assertThat(releases).isEqualTo(5);
                assertThat(status(id)).isEqualTo("QUEUED");
            }
        }
    }
}
