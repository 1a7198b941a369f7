package dev.conveyor.api.results;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.api.dispatch.OwnEventsGroup;
import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import dev.conveyor.common.message.JobEvent;
import dev.conveyor.common.message.JobFinished;
import dev.conveyor.common.test.HttpJson;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * An attempt whose outcome is on Kafka but not yet applied (this api was down, or PostgreSQL, or its events
 * listener is behind) is not rescued: rescuing it would throw the outcome away and run the job again. Here the
 * listener is paused, the attempt long past its deadline, its success already on {@code conveyor.events}.
 */
@ApiTest
@Import(OwnEventsGroup.class)
class RescueAfterOutageTest {

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
        registry.add("conveyor.api.rescue-interval", () -> "200ms");
        // past deadline is judged on started_at (ten minutes ago below); the grace is also how long a rescue waits
        // for the events at most, so it outlasts the pause
        registry.add("conveyor.api.rescue-grace", () -> "60s");
    }

    @LocalServerPort
    int port;
    @Autowired
    JdbcClient jdbc;
    @Autowired
    KafkaListenerEndpointRegistry listeners;
    @Autowired
    KafkaTemplate<String, String> kafka;

    HttpJson http;

    @BeforeEach
    void client() {
        http = ApiTests.client(port);
    }

    @Test
    void anAttemptPastItsDeadlineWhoseSuccessIsUnreadIsNotRescuedAndSucceedsOnceItIsRead() throws Exception {
        var id = UUID.fromString(http.post("/v1/jobs", "{\"type\": \"echo\", \"timeoutSeconds\": 60}").json()
                .get("id").asString());
        var events = ApiTests.eventsListener(listeners);
        try {
            events.pause();
            await().until(events::isContainerPaused);
            // The outcome on Kafka first, then the attempt past its deadline: a rescue pass that finds the attempt
            // finds the outcome on Kafka too. (The other way round, a pass between the two, every 200 ms here,
            // would rightly take the outcome for one that came after the look.)
            JobEvent finished = new JobFinished(JobEvent.VERSION, id, 1, 0, 3, "w1", JobFinished.Outcome.SUCCEEDED,
                    Json.tree("{\"done\": true}"), null, null, Instant.now());
            kafka.send(Topics.EVENTS, id.toString(), Json.write(finished)).get(10, TimeUnit.SECONDS);
            jdbc.sql("""
                    UPDATE jobs SET status = 'RUNNING', attempts = 1, worker_id = 'w1',
                        started_at = now() - interval '10 minutes', updated_at = now() - interval '10 minutes'
                    WHERE id = :id""").param("id", id).update();

            // many rescue passes find it past its deadline, none rescues it while its outcome is unread
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10))
                    .until(() -> status(id).equals("RUNNING"));
        } finally {
            events.resume();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> status(id).equals("SUCCEEDED"));
        assertThat(http.get("/v1/jobs/" + id).json().get("attempts").asInt()).isEqualTo(1);
    }

    private String status(UUID id) {
        return http.get("/v1/jobs/" + id).json().get("status").asString();
    }
}
