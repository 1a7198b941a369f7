package dev.conveyor.api.results;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyBoolean;
import static org.mockito.Mockito.atLeastOnce;
import static org.mockito.Mockito.clearInvocations;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.api.job.JobRepository;
import dev.conveyor.api.wakeup.JobNotifications;
import dev.conveyor.common.test.HttpJson;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.bean.override.mockito.MockitoSpyBean;
import tools.jackson.databind.JsonNode;

/**
 * A long-poll of a job that ends on this instance is answered with the row the ending transaction wrote, handed over
 * with the wake-up, instead of a read of the job after it; a wake-up that hands nothing over (another instance's
 * {@code NOTIFY}) still reads the job.
 */
@ApiTest
class LongPollHandOverTest {

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
    }

    @LocalServerPort
    int port;
    @Autowired
    MeterRegistry meters;
    @Autowired
    EventApplier applier;
    @Autowired
    JdbcClient jdbc;
    @MockitoSpyBean
    JobRepository jobs;

    HttpJson http;

    @BeforeEach
    void client() {
        http = ApiTests.client(port);
    }

    @Test
    void aLongPollOfAJobEndedHereAnswersWithTheWrittenRowWithoutReadingIt() {
        var id = submit();
        var poll = longPoll(id);
        clearInvocations(jobs);

        applier.apply(List.of(
                """
                {"event": "started", "v": 1, "jobId": "%s", "attempt": 1, "generation": 0, "workerId": "w1",
                 "at": "%s"}""".formatted(id, Instant.now()),
                """
                {"event": "finished", "v": 1, "jobId": "%s", "attempt": 1, "generation": 0, "maxAttempts": 3,
                 "workerId": "w1", "outcome": "SUCCEEDED", "result": {"text": "caf\\u00e9"}, "at": "%s"}"""
                        .formatted(id, Instant.now())));
        var answer = poll.join();

        verify(jobs, never()).find(any());
        verify(jobs, never()).find(any(), any());
        verify(jobs, never()).find(any(), any(), anyBoolean());
        assertThat(answer.get("status").asString()).isEqualTo("SUCCEEDED");
        assertThat(answer.get("result").get("text").asString()).isEqualTo("café");
        assertThat(answer.get("payload").get("n").asInt()).isEqualTo(7);
        // every field as a read of the job answers it
        assertThat(answer).isEqualTo(http.get("/v1/jobs/" + id).json());
    }

    @Test
    void aLongPollWokenWithoutTheRowReadsTheJob() {
        var id = submit();
        var poll = longPoll(id);
        clearInvocations(jobs);

        // as another api instance ends a job: its own transaction, then the NOTIFY this instance listens to
        jdbc.sql("UPDATE jobs SET status = 'CANCELLED', finished_at = now(), updated_at = now() WHERE id = :id")
                .param("id", id).update();
        jdbc.sql("SELECT pg_notify(:channel, :id)").param("channel", JobNotifications.CHANNEL)
                .param("id", id.toString()).query().singleRow();
        var answer = poll.join();

        verify(jobs, atLeastOnce()).find(any(), any(), anyBoolean());
        assertThat(answer.get("status").asString()).isEqualTo("CANCELLED");
    }

    private UUID submit() {
        return UUID.fromString(http.post("/v1/jobs", "{\"type\": \"echo\", \"payload\": {\"n\": 7}}").json()
                .get("id").asString());
    }

    /** Starts {@code GET /v1/jobs/{id}?wait=30} and returns once it waits. */
    private CompletableFuture<JsonNode> longPoll(UUID id) {
        var poll = CompletableFuture.supplyAsync(() -> http.get("/v1/jobs/" + id + "?wait=30").json());
        await().atMost(Duration.ofSeconds(10))
                .until(() -> meters.get("conveyor.longpolls.open").gauge().value() >= 1);
        return poll;
    }
}
