package dev.conveyor.api.results;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.doAnswer;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.api.dispatch.OwnEventsGroup;
import dev.conveyor.common.Topics;
import dev.conveyor.common.message.JobFinished;
import dev.conveyor.common.test.HttpJson;
import dev.conveyor.common.test.TestKafka;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.bean.override.mockito.MockitoSpyBean;
import tools.jackson.databind.JsonNode;

/**
 * An event that the api's own code throws on (a bug, stood in for here by a lifecycle that throws for one job's
 * success) fails only its own job's attempt; before, the applier retried its batch for ever, and no outcome of any
 * job was recorded again.
 */
@ApiTest
@Import(OwnEventsGroup.class) // its events reach this context's listener, not another cached context's in the group
class EventsABugCannotHandleTest {

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
    }

    @LocalServerPort
    int port;
    @Autowired
    EventApplier applier;
    @MockitoSpyBean
    JobLifecycle lifecycle;

    HttpJson http;
    volatile UUID poisoned;

    @BeforeEach
    void poison() {
        http = ApiTests.client(port);
        doAnswer(call -> {
            JobFinished finished = call.getArgument(1);
            if (finished.jobId().equals(poisoned) && finished.outcome() == JobFinished.Outcome.SUCCEEDED) {
                throw new ArithmeticException("long overflow");
            }
            return call.callRealMethod();
        }).when(lifecycle).finished(any(), any(), any(), any());
    }

    @Test
    void itFailsOnlyItsOwnJobAndTheRestOfTheBatchIsRecorded() {
        poisoned = submit();
        var others = new ArrayList<UUID>();
        var events = new ArrayList<String>(List.of(started(poisoned), succeeded(poisoned)));
        for (var i = 0; i < 20; i++) {
            var id = submit();
            others.add(id);
            events.add(started(id));
            events.add(succeeded(id));
        }

        // before: the call never returned (the listener's thread, in production)
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> applier.apply(events));

        var job = job(poisoned);
        assertThat(job.get("status").asString()).isEqualTo("FAILED");
        assertThat(job.get("error").get("code").asString()).isEqualTo("INVALID_REPORT");
        assertThat(job.get("error").get("message").asString())
                .isEqualTo("the worker's report of attempt 1 cannot be stored: long overflow");
        assertThat(others).allSatisfy(id -> assertThat(job(id).get("status").asString()).isEqualTo("SUCCEEDED"));
    }

    @Test
    void theEventsListenerReadsOnPastIt() throws Exception {
        poisoned = submit();
        var other = submit();

        try (var producer = new KafkaProducer<String, String>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                TestKafka.bootstrapServers(), ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class))) {
            for (var event : List.of(started(poisoned), succeeded(poisoned), started(other), succeeded(other))) {
                var id = event.contains(poisoned.toString()) ? poisoned : other;
                producer.send(new ProducerRecord<>(Topics.EVENTS, id.toString(), event)).get();
            }
        }

        await().atMost(Duration.ofSeconds(30)).until(() -> job(other).get("status").asString().equals("SUCCEEDED"));
        await().atMost(Duration.ofSeconds(10)).until(() -> job(poisoned).get("status").asString().equals("FAILED"));
        assertThat(job(poisoned).get("error").get("code").asString()).isEqualTo("INVALID_REPORT");
    }

    private UUID submit() {
        return UUID.fromString(http.post("/v1/jobs", "{\"type\": \"echo\"}").json().get("id").asString());
    }

    private JsonNode job(UUID id) {
        return http.get("/v1/jobs/" + id).json();
    }

    private static String started(UUID id) {
        return EventsTest.started(id, 1, 0);
    }

    private static String succeeded(UUID id) {
        return EventsTest.succeeded(id, 1, 0, "{\"ok\": true}");
    }
}
