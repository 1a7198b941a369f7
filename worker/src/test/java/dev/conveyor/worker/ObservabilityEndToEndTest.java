package dev.conveyor.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.common.test.HttpJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A run of jobs through a whole system, then what an operator sees of it: the metrics at
 * {@code /actuator/prometheus} of api and worker, the Grafana dashboard and the Kubernetes manifests that query them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ObservabilityEndToEndTest {

    private static final String QUEUE = "observed";
    private static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();

    private RunningSystem system;
    private HttpJson worker;
    private final List<String> jobIds = new ArrayList<>();

    @BeforeAll
    void runJobs() {
        system = new RunningSystem(RunningSystem.Services.embedded(), QUEUE,
                List.of("--conveyor.metrics.refresh-interval=200ms"));
        var context = system.startWorker(QUEUE, "worker-observed");
        worker = new HttpJson("http://localhost:" + context.getEnvironment().getProperty("local.server.port"));
        for (var i = 0; i < 5; i++) {
            jobIds.add(submit("{\"type\": \"echo\", \"queue\": \"" + QUEUE + "\", \"payload\": {\"n\": " + i + "}}"));
        }
        for (var i = 0; i < 2; i++) {
            jobIds.add(submit("{\"type\": \"fail\", \"queue\": \"" + QUEUE + "\", \"maxAttempts\": 1, "
                    + "\"payload\": {\"message\": \"no\", \"retryable\": false}}"));
        }
        for (var id : jobIds) {
            var job = system.http().get("/v1/jobs/" + id + "?wait=60").json();
            assertThat(job.get("status").asString()).isIn("SUCCEEDED", "FAILED");
        }
    }

    @AfterAll
    void stop() {
        system.close();
    }

    private String submit(String body) {
        var response = system.http().post("/v1/jobs", body);
        assertThat(response.status()).as(response.text()).isEqualTo(202);
        return response.json().get("id").asString();
    }

    private Scrape scrapeApi() {
        return scrape(system.http());
    }

    private Scrape scrapeWorker() {
        return scrape(worker);
    }

    private static Scrape scrape(HttpJson http) {
        var response = http.get("/actuator/prometheus");
        assertThat(response.status()).isEqualTo(200);
        return Scrape.of(response.text());
    }

    /** Every sample name the api and the worker export, once the gauges refreshed on a timer have been refreshed. */
    private Set<String> exported() {
        var names = new LinkedHashSet<String>();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            names.clear();
            names.addAll(scrapeApi().names());
            names.addAll(scrapeWorker().names());
            assertThat(names).contains("conveyor_queue_jobs", "conveyor_queue_records_lag", "conveyor_events_lag");
        });
        return names;
    }

    @Nested
    class Metrics {

        @Test
        void theApiCountsTheRunsJobsByQueueTypeAndStatus() {
            // the api records outcomes after their commit, which is before the waiting GET answers
            var api = scrapeApi();
            assertThat(api.value("conveyor_jobs_submitted_total", "queue", QUEUE, "type", "echo")).isEqualTo(5);
            assertThat(api.value("conveyor_jobs_submitted_total", "queue", QUEUE, "type", "fail")).isEqualTo(2);
            assertThat(api.value("conveyor_jobs_dispatched_total", "queue", QUEUE)).isGreaterThanOrEqualTo(7);
            assertThat(api.value("conveyor_jobs_started_total", "queue", QUEUE, "type", "echo")).isEqualTo(5);
            assertThat(api.value("conveyor_jobs_started_total", "queue", QUEUE, "type", "fail")).isEqualTo(2);
            assertThat(api.value("conveyor_jobs_ended_total", "queue", QUEUE, "type", "echo", "status", "SUCCEEDED"))
                    .isEqualTo(5);
            assertThat(api.value("conveyor_jobs_ended_total", "queue", QUEUE, "type", "fail", "status", "FAILED"))
                    .isEqualTo(2);
            assertThat(api.value("conveyor_jobs_ended_total", "queue", QUEUE, "type", "echo", "status", "FAILED"))
                    .isZero();
            assertThat(api.value("conveyor_jobs_queue_wait_seconds_count", "queue", QUEUE)).isEqualTo(7);
            assertThat(api.value("conveyor_jobs_submit_to_end_seconds_bucket", "queue", QUEUE, "type", "echo",
                    "status", "SUCCEEDED", "le", "+Inf")).isEqualTo(5);
            assertThat(api.value("conveyor_jobs_submit_to_end_seconds_count", "queue", QUEUE, "status", "FAILED"))
                    .isEqualTo(2);
        }

        @Test
        void theApiReportsItsQueuesAndLagsFromItsTimers() {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                var api = scrapeApi();
                assertThat(api.value("conveyor_queue_jobs", "queue", QUEUE, "status", "SUCCEEDED")).isEqualTo(5);
                assertThat(api.value("conveyor_queue_jobs", "queue", QUEUE, "status", "FAILED")).isEqualTo(2);
                assertThat(api.value("conveyor_queue_oldest_queued_age_seconds", "queue", QUEUE)).isZero();
                assertThat(api.value("conveyor_dispatch_pending")).isZero();
                assertThat(api.value("conveyor_dispatch_oldest_pending_age_seconds")).isZero();
                assertThat(api.value("conveyor_events_lag")).isZero();
                assertThat(api.value("conveyor_queue_records_lag", "queue", QUEUE)).isZero();
            });
        }

        @Test
        void theWorkerCountsItsAttemptsByQueueTypeAndOutcome() {
            var worker = scrapeWorker();
            assertThat(worker.value("conveyor_worker_attempts_started_total", "queue", QUEUE, "type", "echo"))
                    .isEqualTo(5);
            assertThat(worker.value("conveyor_worker_attempts_seconds_count", "queue", QUEUE, "type", "echo",
                    "outcome", "SUCCEEDED")).isEqualTo(5);
            assertThat(worker.value("conveyor_worker_attempts_seconds_count", "queue", QUEUE, "type", "fail",
                    "outcome", "HANDLER_ERROR")).isEqualTo(2);
            assertThat(worker.value("conveyor_worker_jobs_in_flight", "queue", QUEUE, "type", "echo")).isZero();
        }

        @Test
        void everyMetricTheReadmeDocumentsIsExported() throws Exception {
            var documented = documentedMetrics();
            assertThat(documented).hasSizeGreaterThan(15);
            var exported = exported();
            assertThat(documented).allSatisfy(name -> assertThat(isExported(name, exported))
                    .as("%s is in the README's Metrics table but not exported", name).isTrue());
        }
    }

    /** The names in the first column of the README's "Metrics" table. */
    private static List<String> documentedMetrics() throws Exception {
        var readme = Files.readString(REPOSITORY.resolve("README.md"));
        var section = readme.substring(readme.indexOf("\n## Metrics"));
        section = section.substring(0, section.indexOf("\n## ", 1));
        var names = new ArrayList<String>();
        var row = Pattern.compile("(?m)^\\| `(conveyor_[a-z_]+)`").matcher(section);
        while (row.find()) {
            names.add(row.group(1));
        }
        return names;
    }

    /** A metric name (as a PromQL query or the README names it) that some exported sample answers. */
    static boolean isExported(String name, Set<String> exported) {
        return exported.contains(name) || exported.contains(name + "_total") || exported.contains(name + "_count");
    }
}
