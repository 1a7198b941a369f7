package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.auth.KeyHash;
import dev.conveyor.common.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import tools.jackson.databind.JsonNode;

/**
 * Fair sharing, measured: tenant A submits a backlog of {@code conveyor.fairness.backlog} (100,000) jobs that each
 * sleep {@code conveyor.fairness.job-ms} (100 ms) on a worker that runs at most 100 at once (so the worker, as always
 * when there is a backlog, is what limits the pace), then tenant B submits one such job every 250 ms for 15 s while
 * A's backlog drains; printed is how long B's jobs waited from their submission to their start (the worker's start time minus the api's creation time, one clock), and how much of
 * A's backlog was still waiting. Both tenants first run 200 jobs each, so that nothing is measured cold. Runs once
 * with the default tenant window and once with one so large that nothing stays in PostgreSQL (as before fair
 * sharing). One api, one worker, all on this machine. Run it with {@code ./mvnw -B verify
 * -pl common,api,worker,client,local -Dconveyor.benchmark=fairness -Dtest=FairnessBenchmark
 * -Dsurefire.failIfNoSpecifiedTests=false}; {@code -Dconveyor.fairness.windows=1000,5000},
 * {@code -Dconveyor.fairness.backlog=30000} and {@code -Dconveyor.fairness.sample=true} (tenant a's jobs by state,
 * every second) change what it runs.
 */
@EnabledIfSystemProperty(named = "conveyor.benchmark", matches = "fairness")
class FairnessBenchmark {

    private static final String A = "cvk_fairness-a-0123456789abcdef0123456789abcdef";
    private static final String B = "cvk_fairness-b-0123456789abcdef0123456789abcdef";
    private static final int BACKLOG = Integer.getInteger("conveyor.fairness.backlog", 100_000);
    /** Each job sleeps this long, on a worker running at most 100 at once: it is the bottleneck, as with a backlog. */
    private static final int JOB_MS = Integer.getInteger("conveyor.fairness.job-ms", 100);
    private static final String JOB = "{\"type\": \"sleep\", \"payload\": {\"ms\": " + JOB_MS + "}}";

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void printsHowLongAnotherTenantWaitsBehindABacklog() throws Exception {
        for (var window : System.getProperty("conveyor.fairness.windows", "1000,10000000").split(",")) {
            var size = Integer.parseInt(window.strip());
            var waits = run(size == 1000 ? "window 1000 (default)" : "window " + size, size);
            assertThat(waits).hasSize(60);
        }
    }

    /** Every second: tenant a's jobs on Kafka (leased, not started), waiting in PostgreSQL, running, ended. */
    private static Thread sample(String jdbcUrl) {
        return Thread.ofPlatform().daemon().start(() -> {
            try (var connection = java.sql.DriverManager.getConnection(jdbcUrl, EmbeddedPostgresService.USER,
                    EmbeddedPostgresService.PASSWORD)) {
                long lastEnded = 0;
                while (!Thread.currentThread().isInterrupted()) {
                    try (var statement = connection.createStatement(); var rs = statement.executeQuery("""
                            SELECT count(*) FILTER (WHERE status = 'QUEUED' AND dispatch_lease_until IS NOT NULL),
                                   count(*) FILTER (WHERE status IN ('QUEUED', 'SCHEDULED')
                                                    AND dispatch_lease_until IS NULL),
                                   count(*) FILTER (WHERE status = 'RUNNING'),
                                   count(*) FILTER (WHERE status IN ('SUCCEEDED', 'FAILED', 'CANCELLED'))
                            FROM jobs WHERE tenant = 'a'""")) {
                        rs.next();
                        var ended = rs.getLong(4);
                        System.out.printf("[fairness]   %s a: on Kafka %d, in PostgreSQL %d, running %d, ended %d "
                                + "(+%d/s)%n", java.time.LocalTime.now().withNano(0), rs.getLong(1), rs.getLong(2),
                                rs.getLong(3), ended, ended - lastEnded);
                        lastEnded = ended;
                    }
                    Thread.sleep(1000);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (java.sql.SQLException e) {
                System.out.println("[fairness]   sampling stopped: " + e.getMessage());
            }
        });
    }

    private List<Double> run(String name, int window) throws Exception {
        var home = Path.of("target", "fairness", DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                .format(java.time.LocalDateTime.now()) + "-" + window).toAbsolutePath();
        Files.createDirectories(home);
        var settings = new FaultCluster.Settings(1, 1, List.of("default"), Map.of(),
                List.of("--conveyor.api.dispatch.tenant-window=" + window,
                        "--conveyor.api.limits.queued-per-tenant=0",
                        "--conveyor.api.auth.keys[0].id=a", "--conveyor.api.auth.keys[0].tenant=a",
                        "--conveyor.api.auth.keys[0].scopes=jobs:write,jobs:read",
                        "--conveyor.api.auth.keys[0].hash=" + KeyHash.of(A),
                        "--conveyor.api.auth.keys[1].id=b", "--conveyor.api.auth.keys[1].tenant=b",
                        "--conveyor.api.auth.keys[1].scopes=jobs:write,jobs:read",
                        "--conveyor.api.auth.keys[1].hash=" + KeyHash.of(B)),
                List.of("--conveyor.worker.max-in-flight=100"), List.of());
        try (var cluster = FaultCluster.start(settings, home, Map.of())) {
            var base = cluster.apis().getFirst().baseUrl();
            var sampler = Boolean.getBoolean("conveyor.fairness.sample") ? sample(cluster.jdbcUrl()) : null;
            var batch = new StringBuilder("{\"jobs\": [");
            for (var i = 0; i < 1000; i++) {
                batch.append(i == 0 ? "" : ",").append(JOB);
            }
            batch.append("]}");
            warmUp(base);
            var submitStarted = System.nanoTime();
            for (var sent = 0; sent < BACKLOG; sent += 1000) {
                var response = send(base, "POST", "/v1/jobs/batch", batch.toString(), A);
                assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
            }
            var submitSeconds = (System.nanoTime() - submitStarted) / 1e9;
            var bJobs = new ArrayList<String>();
            for (var i = 0; i < 60; i++) {
                var response = send(base, "POST", "/v1/jobs", JOB, B);
                assertThat(response.statusCode()).isEqualTo(202);
                bJobs.add(Json.tree(response.body()).get("id").asString());
                Thread.sleep(250);
            }
            var waits = new ArrayList<Double>();
            String aLeft = null;
            for (var id : bJobs) {
                var job = Json.tree(send(base, "GET", "/v1/jobs/" + id + "?wait=60", null, B).body());
                aLeft = aLeft == null ? queuedOf(base, A) : aLeft;
                for (var tries = 0; tries < 10 && job.get("finishedAt").isNull(); tries++) {
                    job = Json.tree(send(base, "GET", "/v1/jobs/" + id + "?wait=60", null, B).body());
                }
                waits.add(startDelay(job));
            }
            Collections.sort(waits);
            System.out.printf("[fairness] %s: A's %,d jobs submitted in %.1f s; B's 60 jobs waited from submit to "
                    + "start p50 %.3f s, p99 %.3f s, max %.3f s; A had %s jobs QUEUED when B's first ended%n",
                    name, BACKLOG, submitSeconds, waits.get(waits.size() / 2), waits.get(waits.size() * 99 / 100),
                    waits.getLast(), aLeft);
            if (sampler != null) {
                sampler.interrupt();
            }
            return waits;
        }
    }

    /** 200 jobs of each tenant through the whole path, so that the share group has its members and the JIT its code. */
    private void warmUp(String base) throws Exception {
        var ids = new ArrayList<String[]>();
        for (var i = 0; i < 200; i++) {
            for (var key : List.of(A, B)) {
                var response = send(base, "POST", "/v1/jobs", "{\"type\": \"echo\"}", key);
                assertThat(response.statusCode()).isEqualTo(202);
                ids.add(new String[] {Json.tree(response.body()).get("id").asString(), key});
            }
        }
        for (var id : ids) {
            for (var tries = 0; tries < 10; tries++) {
                var job = Json.tree(send(base, "GET", "/v1/jobs/" + id[0] + "?wait=60", null, id[1]).body());
                if (!job.get("finishedAt").isNull()) {
                    break;
                }
            }
        }
    }

    private static double startDelay(JsonNode job) {
        if (job.get("startedAt").isNull()) {
            return Double.POSITIVE_INFINITY;
        }
        return Duration.between(Instant.parse(job.get("createdAt").asString()),
                Instant.parse(job.get("startedAt").asString())).toMillis() / 1000.0;
    }

    /** A's jobs not ended yet, as far as one page of 500 QUEUED ones shows ("500+" when more). */
    private String queuedOf(String base, String key) throws Exception {
        var page = Json.tree(send(base, "GET", "/v1/jobs?status=QUEUED&limit=500", null, key).body());
        var n = page.get("jobs").size();
        return page.get("next").isNull() ? Integer.toString(n) : n + "+";
    }

    private HttpResponse<String> send(String base, String method, String path, String body, String key)
            throws Exception {
        var request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(90))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
