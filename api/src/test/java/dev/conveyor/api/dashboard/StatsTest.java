package dev.conveyor.api.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.Topics;
import dev.conveyor.common.test.HttpJson;
import dev.conveyor.common.test.TestKafka;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * {@code GET /v1/stats} against jobs moved by worker events written here by hand (no worker runs), with one-second
 * buckets. Each test uses queues of its own: the series count every end since the api started.
 */
@ApiTest
class StatsTest {

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
        registry.add("conveyor.api.queues", () -> "default,dash-a,dash-b,dash-c,dash-idle,dash-plan");
        registry.add("conveyor.api.dashboard.bucket", () -> "1s");
        registry.add("conveyor.api.dashboard.settle", () -> "500ms");
        registry.add("conveyor.api.dashboard.refresh", () -> "3s");
    }

    @LocalServerPort
    int port;
    @Autowired
    JdbcClient jdbc;

    HttpJson http;
    KafkaProducer<String, String> producer;

    @BeforeEach
    void clients() {
        http = ApiTests.client(port);
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class));
    }

    @AfterEach
    void close() {
        producer.close();
    }

    @Test
    void theDashboardsFilesTellTheBrowserToRunOnlyTheirOwnCodeAndNeverInAFrame() {
        for (var path : List.of("/", "/index.html", "/style.css", "/js/app.js", "/js/dom.js")) {
            var response = http.get(path);
            assertThat(response.status()).as(path).isEqualTo(200);
            assertThat(response.header("Content-Security-Policy")).as(path)
                    .contains("script-src 'self'", "style-src 'self'", "frame-ancestors 'none'")
                    .doesNotContain("unsafe");
            assertThat(response.header("X-Frame-Options")).as(path).isEqualTo("DENY");
            assertThat(response.header("X-Content-Type-Options")).as(path).isEqualTo("nosniff");
        }
        // the api's own answers are not pages, and carry none of it
        assertThat(http.get("/v1/queues").header("Content-Security-Policy")).isNull();
    }

    private JsonNode stats() {
        var response = http.get("/v1/stats");
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.contentType()).startsWith("application/json");
        return response.json();
    }

    private JsonNode queue(JsonNode stats, String name) {
        for (var queue : stats.get("queues")) {
            if (queue.get("name").asString().equals(name)) {
                return queue;
            }
        }
        return null;
    }

    private UUID submit(String queue) {
        var response = http.post("/v1/jobs", "{\"type\": \"echo\", \"queue\": \"" + queue + "\"}");
        assertThat(response.status()).isEqualTo(202);
        return UUID.fromString(response.json().get("id").asString());
    }

    private String status(UUID id) {
        return http.get("/v1/jobs/" + id).json().get("status").asString();
    }

    /** A worker's start and end of attempt 1, sent in order and keyed by job id. */
    private void run(UUID id, boolean succeeds) {
        var at = Instant.now();
        var started = """
                {"event": "started", "v": 1, "jobId": "%s", "attempt": 1, "generation": 0, "workerId": "w1",
                 "at": "%s"}""".formatted(id, at);
        var finished = succeeds ? """
                {"event": "finished", "v": 1, "jobId": "%s", "attempt": 1, "generation": 0, "maxAttempts": 3,
                 "workerId": "w1", "outcome": "SUCCEEDED", "result": {}, "at": "%s"}""".formatted(id, at)
                : """
                {"event": "finished", "v": 1, "jobId": "%s", "attempt": 1, "maxAttempts": 3, "workerId": "w1",
                 "outcome": "FAILED", "error": {"code": "BOOM", "message": "no", "retryable": false},
                 "at": "%s"}""".formatted(id, at);
        try {
            producer.send(new ProducerRecord<>(Topics.EVENTS, id.toString(), started)).get();
            producer.send(new ProducerRecord<>(Topics.EVENTS, id.toString(), finished)).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sums a field over a series. */
    private static long sum(JsonNode buckets, String field) {
        var sum = 0L;
        for (var bucket : buckets) {
            sum += bucket.get(field).asLong();
        }
        return sum;
    }

    @Nested
    class Queues {

        @Test
        void countsEachQueuesJobsByStatusWithTheOldestQueuedAge() {
            submit("dash-a");
            submit("dash-a");
            var cancelled = submit("dash-a");
            http.post("/v1/jobs", "{\"type\": \"echo\", \"queue\": \"dash-b\", \"delaySeconds\": 3600}");
            assertThat(http.post("/v1/jobs/" + cancelled + "/cancel", "").status()).isEqualTo(202);

            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                var stats = stats();
                var a = queue(stats, "dash-a");
                assertThat(a).isNotNull();
                assertThat(List.of(a.get("scheduled").asLong(), a.get("queued").asLong(), a.get("running").asLong(),
                        a.get("succeeded").asLong(), a.get("failed").asLong(), a.get("cancelled").asLong()))
                        .containsExactly(0L, 2L, 0L, 0L, 0L, 1L);
                assertThat(a.get("oldestQueuedSeconds").asDouble()).isBetween(0.0, 30.0);
                assertThat(queue(stats, "dash-b").get("scheduled").asLong()).isEqualTo(1);
            });
        }

        @Test
        void oneReadOfTheCountersAnswersEveryViewerForASecond() {
            var first = stats().get("at").asString();
            // wait for a fresh read, then ask again at once: the same read answers
            await().atMost(Duration.ofSeconds(5)).until(() -> !stats().get("at").asString().equals(first));
            var fresh = stats().get("at").asString();
            var again = stats().get("at").asString();

            assertThat(again).isEqualTo(fresh);
            assertThat(Duration.between(Instant.parse(first), Instant.parse(fresh))).isPositive();
        }
    }

    @Nested
    class Cost {

        @Test
        void countsFromTheIndexOfRecordedEndsNotFromTheTable() {
            // 50,000 jobs that ended over 10 s more than two minutes ago, and 5,000 still queued
            jdbc.sql("""
                    INSERT INTO jobs (id, type, queue, status, payload, max_attempts, initial_max_attempts,
                                      timeout_seconds, created_at, run_at, updated_at, dispatched_at)
                    SELECT gen_random_uuid(), 'echo', 'dash-plan', CASE WHEN i <= 50000 THEN 'SUCCEEDED' ELSE 'QUEUED' END,
                           '{}', 3, 3, 300, t, t, t + interval '20 ms', t
                    FROM generate_series(1, 55000) AS i,
                         LATERAL (SELECT now() - interval '2 minutes' - i * interval '0.2 ms' AS t) at
                    """).update();
            jdbc.sql("ANALYZE jobs").update();

            var plan = String.join("\n", jdbc.sql("EXPLAIN " + EndedJobs.ENDED)
                    .param("bucketSeconds", 5).param("settleSeconds", 2.0).param("historySeconds", 600)
                    .param("from", Instant.now().minusSeconds(10).toString())
                    .query(String.class).list());

            assertThat(plan).contains("jobs_ended_idx").doesNotContain("Seq Scan on jobs");

            // the cost of counting all 50,000 ends at once (10 s at 5,000 jobs/s; a bucket is 5 s), for the README
            var fastest = Long.MAX_VALUE;
            for (var i = 0; i < 5; i++) {
                var started = System.nanoTime();
                var rows = jdbc.sql(EndedJobs.ENDED).param("bucketSeconds", 5).param("settleSeconds", 2.0)
                        .param("historySeconds", 600).param("from", Instant.now().minusSeconds(300).toString())
                        .query((rs, n) -> "dash-plan".equals(rs.getString("queue")) ? rs.getLong("ended") : 0L).list();
                fastest = Math.min(fastest, System.nanoTime() - started);
                assertThat(rows.stream().mapToLong(Long::longValue).sum()).isEqualTo(50_000);
            }
            System.out.printf("[stats] counting 50,000 ended jobs took %.1f ms (fastest of 5)%n", fastest / 1e6);
        }
    }

    @Nested
    class Page {

        @Test
        void theDashboardIsServedAtTheRoot() {
            var page = http.get("/");
            assertThat(page.status()).isEqualTo(200);
            assertThat(page.contentType()).startsWith("text/html");
            assertThat(page.text()).contains("<script type=\"module\" src=\"js/app.js\">");

            var script = http.get("/js/app.js");
            assertThat(script.status()).isEqualTo(200);
            assertThat(script.contentType()).contains("javascript");
        }

        /** The page reads how often its views refresh from the api's setting (3 s here; 2 s by default). */
        @Test
        void thePageIsToldHowOftenToRefresh() {
            var settings = http.get("/dashboard.json");
            assertThat(settings.status()).isEqualTo(200);
            assertThat(settings.contentType()).startsWith("application/json");
            assertThat(settings.json().get("refreshMillis").asLong()).isEqualTo(3000);
            assertThat(http.get("/js/app.js").text()).contains("api('dashboard.json')");
            assertThat(http.post("/dashboard.json", "{}").status()).as("only read").isIn(404, 405);
        }

        /** A HEAD of what a GET answers is answered as the GET is, without the body; it was a 404. */
        @Test
        void aHeadOfTheSettingsIsAnsweredLikeItsGet() throws Exception {
            var head = HttpClient.newHttpClient().send(HttpRequest
                    .newBuilder(URI.create("http://localhost:" + port + "/dashboard.json"))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());

            assertThat(head.statusCode()).isEqualTo(200);
            assertThat(head.headers().firstValue("Content-Type")).hasValueSatisfying(
                    type -> assertThat(type).startsWith("application/json"));
            assertThat(head.body()).isEmpty();
        }
    }

    @Nested
    class Series {

        @Test
        void countsEndedJobsPerBucketAndQueueWithLatencyPercentiles() {
            var ids = new ArrayList<UUID>();
            for (var i = 0; i < 6; i++) {
                var id = submit("dash-c");
                ids.add(id);
                run(id, i != 0);
            }
            var cancelled = submit("dash-c");
            submit("dash-idle");
            assertThat(http.post("/v1/jobs/" + cancelled + "/cancel", "").status()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(20)).until(() -> ids.stream().noneMatch(id -> status(id).equals("QUEUED")
                    || status(id).equals("RUNNING")));

            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                var byQueue = stats().get("endedByQueue");
                assertThat(byQueue.has("dash-c")).isTrue();
                var c = byQueue.get("dash-c");
                assertThat(sum(c, "ended")).isEqualTo(7);
                assertThat(sum(c, "succeeded")).isEqualTo(5);
                assertThat(sum(c, "failed")).isEqualTo(1);
                assertThat(sum(c, "cancelled")).isEqualTo(1);
            });

            var stats = stats();
            assertThat(stats.get("bucketSeconds").asLong()).isEqualTo(1);
            assertThat(stats.get("endedByQueue").has("dash-idle")).isFalse();
            var total = stats.get("ended");
            assertThat(sum(total, "ended")).isGreaterThanOrEqualTo(7);
            // one point per second, none missing
            for (var i = 1; i < total.size(); i++) {
                assertThat(Duration.between(Instant.parse(total.get(i - 1).get("start").asString()),
                        Instant.parse(total.get(i).get("start").asString()))).isEqualTo(Duration.ofSeconds(1));
            }
            for (var bucket : stats.get("endedByQueue").get("dash-c")) {
                if (bucket.get("ended").asLong() > 0) {
                    assertThat(bucket.get("perSecond").asDouble()).isEqualTo(bucket.get("ended").asDouble());
                    var p50 = bucket.get("p50Ms").asDouble();
                    assertThat(p50).isBetween(0.0, 20_000.0);
                    assertThat(bucket.get("p99Ms").asDouble()).isGreaterThanOrEqualTo(p50);
                } else {
                    assertThat(bucket.get("p50Ms").isNull()).isTrue();
                }
            }
        }
    }
}
