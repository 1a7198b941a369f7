package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.test.HttpJson;
import java.time.Duration;
import java.util.ArrayList;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A job whose record Kafka will never take, because it is larger than Kafka allows (here: payloads of up to 2 MiB
 * accepted, the producer allowed records of 4 MiB, and the broker its default {@code message.max.bytes} of 1 MiB,
 * which the api cannot check at start as it checks its producer's, {@link RecordLimit}), fails alone, saying why. Published again
 * after every refusal, such a job stayed QUEUED for ever, taken by the poller's every claim (each a lease written and
 * given up again, and a megabyte encoded) for as long as the api ran, among its tenant's oldest due jobs.
 */
@ApiTest
class OversizedRecordsTest {

    private static final String QUEUE = "oversized";

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
        registry.add("conveyor.api.queues", () -> QUEUE);
        registry.add("conveyor.api.max-payload-bytes", () -> "2097152");
        registry.add(RecordLimit.MAX_REQUEST_SIZE, () -> "4194304");
        registry.add("conveyor.api.dispatch.batch-size", () -> "4");
    }

    @LocalServerPort
    int port;
    @Autowired
    JdbcClient jdbc;

    private HttpJson http;

    @BeforeEach
    void client() {
        http = ApiTests.client(port);
    }

    @Test
    void aJobKafkaRefusesAsTooLargeFailsAloneAndTheOthersGoOut() {
        var big = "x".repeat(1_200_000);
        var tooLarge = new ArrayList<String>();
        for (var i = 0; i < 4; i++) { // as many as the poller claims at once
            var response = http.post("/v1/jobs",
                    "{\"type\": \"echo\", \"queue\": \"" + QUEUE + "\", \"payload\": {\"text\": \"" + big + "\"}}");
            assertThat(response.status()).as(response.text()).isEqualTo(202);
            tooLarge.add(response.json().get("id").asString());
        }
        // due in a second: only the poller publishes it
        var delayed = http.post("/v1/jobs", "{\"type\": \"echo\", \"queue\": \"" + QUEUE + "\", \"delaySeconds\": 1}");
        assertThat(delayed.status()).as(delayed.text()).isEqualTo(202);
        var delayedId = UUID.fromString(delayed.json().get("id").asString());

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(jdbc
                .sql("SELECT dispatched_at IS NOT NULL FROM jobs WHERE id = :id").param("id", delayedId)
                .query(Boolean.class).single()).as("the delayed job is on Kafka").isTrue());
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (var id : tooLarge) {
                var job = http.get("/v1/jobs/" + id).json();
                assertThat(job.get("status").asString()).isEqualTo("FAILED");
                assertThat(job.get("error").get("code").asString()).isEqualTo("RECORD_TOO_LARGE");
                assertThat(job.get("error").get("message").asString()).contains("max.request.size");
                assertThat(job.get("error").get("retryable").asBoolean()).isFalse();
            }
        });
    }
}
