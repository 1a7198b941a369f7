package dev.conveyor.api.queues;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.api.queues.TestJobs.Row;
import dev.conveyor.common.test.HttpJson;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/** {@code GET /v1/queues} against the jobs the api stores; each test uses queues of its own. */
@ApiTest
class QueuesTest {

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
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

    private JsonNode queues() {
        var response = http.get("/v1/queues");
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.contentType()).startsWith("application/json");
        return response.json().get("queues");
    }

    private JsonNode queue(String name) {
        for (var queue : queues()) {
            if (queue.get("name").asString().equals(name)) {
                return queue;
            }
        }
        return null;
    }

    private static List<Long> counts(JsonNode queue) {
        return List.of("scheduled", "queued", "running", "succeeded", "failed", "cancelled").stream()
                .map(field -> queue.get(field).asLong()).toList();
    }

    private List<UUID> insert(String queue, String status, int n) {
        var rows = new ArrayList<Row>();
        for (var i = 0; i < n; i++) {
            rows.add(Row.of(queue, status));
        }
        TestJobs.insert(jdbc, rows);
        return rows.stream().map(Row::id).toList();
    }

    /**
     * Every body is JSON, its instants ISO-8601 strings, whatever the request accepts: asked for YAML, the admin's
     * answers were YAML with instants as epoch seconds; asked for problem documents, a 200 was labelled
     * {@code application/problem+json}; asked for HTML, a 406.
     */
    @Test
    void theAdminsAnswersAreJsonWhateverTheRequestAccepts() {
        for (var path : List.of("/v1/queues", "/v1/workers", "/v1/stats", "/v1/keys")) {
            for (var accept : List.of("application/yaml", "application/problem+json", "text/html")) {
                var response = http.get(path, "Accept", accept);

                assertThat(response.status()).as(path + " " + accept + ": " + response.text()).isEqualTo(200);
                assertThat(response.contentType()).as(path + " " + accept).isEqualTo("application/json");
                assertThat(response.json().isObject()).isTrue();
                if (path.equals("/v1/stats")) {
                    assertThat(Instant.parse(response.json().get("at").asString())).isBefore(Instant.now().plusSeconds(1));
                }
            }
        }
    }

    @Nested
    class Submissions {

        @Test
        void countsSubmittedJobsPerQueueAndStatus() {
            http.post("/v1/jobs", "{\"type\": \"echo\", \"queue\": \"sub-a\"}");
            http.post("/v1/jobs", "{\"type\": \"echo\", \"queue\": \"sub-a\"}");
            http.post("/v1/jobs", "{\"type\": \"echo\", \"queue\": \"sub-a\", \"delaySeconds\": 3600}");
            var batch = http.post("/v1/jobs/batch", """
                    {"jobs": [{"type": "echo", "queue": "sub-b"},
                              {"type": "sleep", "queue": "sub-b", "payload": {"ms": 1}},
                              {"type": "echo", "queue": "sub-b", "runAt": "2099-01-01T00:00:00Z"},
                              {"type": "echo", "queue": "sub-c", "delaySeconds": 60}]}""");
            assertThat(batch.status()).isEqualTo(202);

            assertThat(counts(queue("sub-a"))).containsExactly(1L, 2L, 0L, 0L, 0L, 0L);
            assertThat(counts(queue("sub-b"))).containsExactly(1L, 2L, 0L, 0L, 0L, 0L);
            assertThat(counts(queue("sub-c"))).containsExactly(1L, 0L, 0L, 0L, 0L, 0L);
            assertThat(queue("sub-c").get("oldestQueuedSeconds").asDouble()).isZero();
        }

        @Test
        void aReplayedSubmissionCountsOnce() {
            var body = "{\"type\": \"echo\", \"queue\": \"sub-replay\", \"idempotencyKey\": \"sub-replay-1\"}";
            assertThat(http.post("/v1/jobs", body).status()).isEqualTo(202);
            assertThat(http.post("/v1/jobs", body).status()).isEqualTo(200);

            assertThat(counts(queue("sub-replay"))).containsExactly(0L, 1L, 0L, 0L, 0L, 0L);
        }

        @Test
        void listsQueuesSortedByName() {
            for (var name : List.of("sort-b", "sort_a", "sort-a", "sort0")) {
                http.post("/v1/jobs", "{\"type\": \"echo\", \"queue\": \"" + name + "\"}");
            }

            var names = new ArrayList<String>();
            queues().forEach(q -> names.add(q.get("name").asString()));

            assertThat(names).contains("sort-a", "sort-b", "sort0", "sort_a");
            assertThat(names).isSortedAccordingTo(Comparator.naturalOrder());
        }
    }

    @Nested
    class StatusChanges {

        @Test
        void batchedUpdatesMoveJobsBetweenCounts() {
            var ids = insert("moves", "QUEUED", 10);

            TestJobs.setStatus(jdbc, ids.subList(0, 6), List.of("RUNNING", "RUNNING", "RUNNING", "RUNNING",
                    "RUNNING", "RUNNING"));
            TestJobs.setStatus(jdbc, ids.subList(0, 5), List.of("SUCCEEDED", "SUCCEEDED", "FAILED", "CANCELLED",
                    "SCHEDULED"));

            assertThat(counts(queue("moves"))).containsExactly(1L, 4L, 1L, 2L, 1L, 1L);
        }

        @Test
        void updatesThatKeepTheStatusChangeNoCount() {
            var ids = insert("same-status", "QUEUED", 3);

            jdbc.sql("UPDATE jobs SET dispatched_at = now(), updated_at = now() WHERE id = ANY(:ids::uuid[])")
                    .param("ids", ids.toArray(UUID[]::new)).update();
            TestJobs.setStatus(jdbc, ids, List.of("QUEUED", "QUEUED", "QUEUED"));

            assertThat(counts(queue("same-status"))).containsExactly(0L, 3L, 0L, 0L, 0L, 0L);
        }

        @Test
        void aJobMovedToAnotherQueueCountsThere() {
            var ids = insert("move-from", "RUNNING", 2);

            jdbc.sql("UPDATE jobs SET queue = 'move-to' WHERE id = :id").param("id", ids.getFirst()).update();

            assertThat(counts(queue("move-from"))).containsExactly(0L, 0L, 1L, 0L, 0L, 0L);
            assertThat(counts(queue("move-to"))).containsExactly(0L, 0L, 1L, 0L, 0L, 0L);
        }

        @Test
        void aQueueWhoseJobsAreAllDeletedIsNotListed() {
            var ids = insert("deleted", "SUCCEEDED", 4);
            assertThat(queue("deleted")).isNotNull();

            jdbc.sql("DELETE FROM jobs WHERE id = ANY(:ids::uuid[])").param("ids", ids.toArray(UUID[]::new)).update();

            assertThat(queue("deleted")).isNull();
        }
    }

    @Nested
    class OldestQueued {

        @Test
        void isTheAgeOfTheOldestQueuedJob() {
            var now = Instant.now();
            TestJobs.insert(jdbc, List.of(
                    new Row(UUID.randomUUID(), "aged", "QUEUED", now.minusSeconds(90), null),
                    new Row(UUID.randomUUID(), "aged", "QUEUED", now.minusSeconds(5), null),
                    // older, but not waiting for a worker
                    new Row(UUID.randomUUID(), "aged", "RUNNING", now.minusSeconds(900), null),
                    new Row(UUID.randomUUID(), "aged", "SCHEDULED", now.minusSeconds(800), null)));

            // generous upper bound: the test machine may be slow, but it is not 30 s slow
            assertThat(queue("aged").get("oldestQueuedSeconds").asDouble()).isCloseTo(90.0, within(30.0));
        }

        @Test
        void isANumberOfSecondsWithFractions() {
            TestJobs.insert(jdbc, List.of(
                    new Row(UUID.randomUUID(), "fractions", "QUEUED", Instant.now().minusMillis(2_500), null)));

            var age = queue("fractions").get("oldestQueuedSeconds");

            assertThat(age.isFloatingPointNumber()).isTrue();
            assertThat(age.asDouble()).isBetween(2.5, 32.5);
        }

        @Test
        void isZeroWhenNothingIsQueued() {
            insert("none-queued", "SUCCEEDED", 1);
            insert("none-queued", "RUNNING", 1);

            assertThat(queue("none-queued").get("oldestQueuedSeconds").asDouble()).isZero();
        }
    }
}
