package dev.conveyor.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;

/** Two real workers heartbeat to a real api, which lists them with what they are doing. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WorkersEndToEndTest {

    private static final String QUEUE = "e2e-workers";
    private static final String A = "listed-worker-a";
    private static final String B = "listed-worker-b";
    private static final Duration WAIT = Duration.ofSeconds(20);

    private RunningSystem system;

    @BeforeAll
    void start() {
        system = new RunningSystem(QUEUE);
        for (var id : List.of(A, B)) {
            system.startWorker(QUEUE, id, "--conveyor.worker.heartbeat-interval=500ms");
        }
    }

    @AfterAll
    void stop() {
        system.close();
    }

    /** This test's workers as the api lists them (other test classes' workers may share the topic). */
    private List<JsonNode> listed() {
        var response = system.http().get("/v1/workers");
        assertThat(response.status()).isEqualTo(200);
        var mine = new ArrayList<JsonNode>();
        response.json().get("workers").forEach(worker -> {
            if (List.of(A, B).contains(worker.get("id").asString())) {
                mine.add(worker);
            }
        });
        return mine;
    }

    private long total(String field) {
        return listed().stream().mapToLong(worker -> worker.get(field).asLong()).sum();
    }

    private String submit(String body) {
        var response = system.http().post("/v1/jobs", body);
        assertThat(response.status()).as(response.text()).isEqualTo(202);
        return response.json().get("id").asString();
    }

    private void awaitSucceeded(String id) {
        var job = system.http().get("/v1/jobs/" + id + "?wait=60").json();
        assertThat(job.get("status").asString()).as("%s", job).isEqualTo("SUCCEEDED");
    }

    @Test
    @Order(1)
    void bothWorkersAreListedWithTheirQueuesAndHandlerTypes() {
        var before = Instant.now();

        await().atMost(WAIT).untilAsserted(() -> {
            var workers = listed();
            assertThat(workers).extracting(worker -> worker.get("id").asString()).containsExactly(A, B);
            for (var worker : workers) {
                assertThat(worker.get("queues").toString()).isEqualTo("[\"" + QUEUE + "\"]");
                assertThat(worker.get("types").toString()).isEqualTo("[\"echo\",\"fail\",\"http\",\"sleep\"]");
                assertThat(worker.get("inFlight").asInt()).isZero();
                assertThat(Instant.parse(worker.get("startedAt").asString())).isBefore(before);
                assertThat(Instant.parse(worker.get("lastSeenAt").asString())).isAfterOrEqualTo(before);
            }
        });
    }

    @Test
    @Order(2)
    void theCountsFollowTheJobs() {
        var completedBefore = total("completed");

        var sleeper = submit("{\"type\": \"sleep\", \"queue\": \"" + QUEUE + "\", \"payload\": {\"ms\": 3000}}");
        await().atMost(WAIT).untilAsserted(() -> assertThat(total("inFlight")).isEqualTo(1));
        var echoes = new ArrayList<String>();
        for (var i = 0; i < 5; i++) {
            echoes.add(submit("{\"type\": \"echo\", \"queue\": \"" + QUEUE + "\", \"payload\": {\"n\": " + i + "}}"));
        }
        echoes.forEach(this::awaitSucceeded);
        awaitSucceeded(sleeper);

        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(total("completed")).isEqualTo(completedBefore + 6);
            assertThat(total("inFlight")).isZero();
        });
    }

    @Test
    @Order(3)
    void aWorkerThatShutsDownDisappearsAtOnceWhileTheOtherStays() {
        await().atMost(WAIT).untilAsserted(() -> assertThat(listed()).hasSize(2));

        system.stopWorker(B);

        // far sooner than the api's 30 s TTL: the tombstone, not staleness, removes it
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(listed())
                .extracting(worker -> worker.get("id").asString()).containsExactly(A));
    }
}
