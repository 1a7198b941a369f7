package dev.conveyor.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import dev.conveyor.common.Json;
import dev.conveyor.common.test.HttpJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.LoggerFactory;
import org.yaml.snakeyaml.Yaml;
import tools.jackson.databind.JsonNode;

/**
 * A run of jobs through a whole system, then what an operator sees of it: the metrics at
 * {@code /actuator/prometheus} of api and worker, the Grafana dashboard and the Kubernetes manifests that query them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ObservabilityEndToEndTest {

    private static final String QUEUE = "observed";
    /** The tracing tests' jobs go here, so that the metrics tests count only the run's. */
    private static final String TRACED = "traced";
    private static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();

    private RunningSystem system;
    private HttpJson worker;
    private final List<String> jobIds = new ArrayList<>();
    private final ListAppender<ILoggingEvent> handlerLog = new ListAppender<>();

    /** Logs a line about each job it runs, as a user's handler would. */
    static final class LoggingHandler implements JobHandler {

        private static final org.slf4j.Logger log = LoggerFactory.getLogger(LoggingHandler.class);

        @Override
        public String type() {
            return "logged";
        }

        @Override
        public JsonNode handle(JobContext context) {
            log.info("Handling job {}", context.jobId());
            return context.payload();
        }
    }

    @BeforeAll
    void runJobs() {
        system = new RunningSystem(RunningSystem.Services.embedded(), QUEUE + "," + TRACED,
                List.of("--conveyor.metrics.refresh-interval=200ms", "--conveyor.tracing.enabled=true"));
        var context = system.startWorker(QUEUE + "," + TRACED, "worker-observed", List.of(new LoggingHandler()),
                "--conveyor.tracing.enabled=true");
        // Spring Boot resets logging as each application starts: listen once both have
        var logger = (Logger) LoggerFactory.getLogger(LoggingHandler.class);
        handlerLog.start();
        logger.addAppender(handlerLog);
        worker = new HttpJson("http://localhost:" + context.getEnvironment().getProperty("local.server.port"));
        for (var i = 0; i < 5; i++) {
            jobIds.add(submit("{\"type\": \"echo\", \"queue\": \"" + QUEUE + "\", \"payload\": {\"n\": " + i + "}}"));
        }
        for (var i = 0; i < 2; i++) {
            jobIds.add(submit("{\"type\": \"fail\", \"queue\": \"" + QUEUE + "\", \"maxAttempts\": 1, "
                    + "\"payload\": {\"message\": \"no\", \"retryable\": false}}"));
        }
        // one that never runs: cancelled while it waits for its time
        var later = submit("{\"type\": \"sleep\", \"queue\": \"" + QUEUE + "\", \"runAt\": \""
                + Instant.now().plus(Duration.ofHours(1)) + "\", \"payload\": {\"ms\": 1}}");
        assertThat(system.http().post("/v1/jobs/" + later + "/cancel", "").status()).isEqualTo(202);
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

    /**
     * That every label {@code expression} matches on or groups by is one its metrics carry (or one Prometheus adds to
     * every series it scrapes): a misspelt label selects nothing, and a panel or a scaler shows 0 without an error.
     */
    private void assertLabelsExist(String expression) {
        var api = scrapeApi();
        var worker = scrapeWorker();
        PromQl.labels(expression).forEach((metric, labels) -> {
            var carried = new LinkedHashSet<String>(api.labels(metric));
            carried.addAll(worker.labels(metric));
            carried.addAll(Set.of("instance", "job"));
            assertThat(carried).as("labels of %s, which %s relies on", metric, expression).containsAll(labels);
        });
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
            assertThat(api.value("conveyor_jobs_ended_total", "queue", QUEUE, "type", "sleep", "status", "CANCELLED"))
                    .as("a job cancelled before it ran").isEqualTo(1);
            assertThat(api.value("conveyor_jobs_started_total", "queue", QUEUE, "type", "sleep")).isNull();
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
                assertThat(api.value("conveyor_queue_jobs", "queue", QUEUE, "status", "CANCELLED")).isEqualTo(1);
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

    @Nested
    class Documentation {

        @Test
        void everyMetricOfConveyorsOwnIsInTheReadme() throws Exception {
            var documented = documentedMetrics();
            var exported = exported().stream().filter(name -> name.startsWith("conveyor_")).toList();
            assertThat(exported).isNotEmpty().allSatisfy(name -> assertThat(documented)
                    .as("%s is exported but not in the README's Metrics table", name)
                    .anySatisfy(metric -> assertThat(name).isIn(metric, metric + "_total", metric + "_bucket",
                            metric + "_count", metric + "_sum", metric + "_max",
                            metric.replaceFirst("_total$", "") + "_created")));
        }
    }

    @Nested
    class Tracing {

        @Test
        void theWorkersLogLinesAboutAJobCarryTheTraceStartedAtItsSubmission() {
            var response = system.http().post("/v1/jobs",
                    "{\"type\": \"logged\", \"queue\": \"" + TRACED + "\", \"payload\": {}}");
            assertThat(response.status()).isEqualTo(202);
            var traceparent = response.header("traceparent");
            assertThat(traceparent).as("the submission's trace").matches("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");
            var traceId = traceparent.split("-")[1];
            var jobId = response.json().get("id").asString();
            var job = system.http().get("/v1/jobs/" + jobId + "?wait=60").json();
            assertThat(job.get("status").asString()).isEqualTo("SUCCEEDED");

            var lines = handlerLog.list.stream()
                    .filter(line -> line.getFormattedMessage().equals("Handling job " + jobId)).toList();
            assertThat(lines).hasSize(1);
            assertThat(lines.getFirst().getMDCPropertyMap())
                    .containsEntry("jobId", jobId)
                    .containsEntry("traceId", traceId);
        }

        @Test
        void aClientsTraceContinuesThroughTheJob() {
            var clientTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
            var response = system.http().post("/v1/jobs",
                    "{\"type\": \"logged\", \"queue\": \"" + TRACED + "\", \"payload\": {}}", "application/json",
                    "traceparent", "00-" + clientTrace + "-00f067aa0ba902b7-01");
            assertThat(response.status()).isEqualTo(202);
            assertThat(response.header("traceparent")).contains(clientTrace);
            var jobId = response.json().get("id").asString();
            system.http().get("/v1/jobs/" + jobId + "?wait=60");
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(handlerLog.list.stream()
                    .filter(line -> jobId.equals(line.getMDCPropertyMap().get("jobId")))
                    .map(line -> line.getMDCPropertyMap().get("traceId"))).containsExactly(clientTrace));
        }
    }

    @Nested
    class Dashboard {

        @Test
        void everyQueryOfTheGrafanaDashboardNamesMetricsTheSystemExports() throws Exception {
            var dashboard = Json.MAPPER.readTree(Files.readString(REPOSITORY.resolve("deploy/grafana/conveyor.json")));
            var expressions = new ArrayList<String>();
            dashboard.get("panels").forEach(panel -> panel.get("targets")
                    .forEach(target -> expressions.add(target.get("expr").asString())));
            assertThat(expressions).hasSizeGreaterThan(10);
            var exported = exported();
            for (var expression : expressions) {
                var names = PromQl.metricNames(expression);
                assertThat(names).as("metrics of %s", expression).isNotEmpty()
                        .allSatisfy(name -> assertThat(isExported(name, exported))
                                .as("%s (in %s) is exported", name, expression).isTrue());
                assertLabelsExist(expression);
            }
            var variables = new ArrayList<String>();
            dashboard.get("templating").get("list").forEach(variable -> {
                if (variable.has("definition")) {
                    variables.add(variable.get("definition").asString());
                }
            });
            assertThat(variables).isNotEmpty().allSatisfy(query -> {
                var metric = Pattern.compile("label_values\\((\\w+),").matcher(query);
                assertThat(metric.find()).as(query).isTrue();
                assertThat(isExported(metric.group(1), exported)).as(query).isTrue();
            });
        }
    }

    @Nested
    class Autoscaling {

        @Test
        void theKubernetesManifestsHangTogetherAndScaleOnExportedMetrics() throws Exception {
            var documents = new ArrayList<Map<String, Object>>();
            try (var files = Files.list(REPOSITORY.resolve("deploy/kubernetes"))) {
                for (var file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                    for (var document : new Yaml().loadAll(Files.readString(file))) {
                        assertThat(document).as(file.toString()).isInstanceOf(Map.class);
                        documents.add(map(document));
                    }
                }
            }
            documents.forEach(document -> assertThat(document).containsKeys("apiVersion", "kind", "metadata"));
            var deployments = ofKind(documents, "Deployment");
            assertThat(deployments).extracting(d -> map(d.get("metadata")).get("name"))
                    .containsExactlyInAnyOrder("conveyor-api", "conveyor-worker");
            for (var deployment : deployments) {
                var spec = map(deployment.get("spec"));
                var template = map(spec.get("template"));
                var labels = map(map(template.get("metadata")).get("labels"));
                assertThat(labels).containsAllEntriesOf(map(map(spec.get("selector")).get("matchLabels")));
                assertThat((List<?>) map(template.get("spec")).get("containers")).isNotEmpty()
                        .allSatisfy(container -> assertThat(map(container)).containsKeys("name", "image"));
            }
            for (var service : ofKind(documents, "Service")) {
                var selector = map(map(service.get("spec")).get("selector"));
                assertThat(deployments).as("a Deployment whose pods %s selects", selector).anySatisfy(d ->
                        assertThat(map(map(map(map(d.get("spec")).get("template")).get("metadata")).get("labels")))
                                .containsAllEntriesOf(selector));
            }
            var scalers = ofKind(documents, "ScaledObject");
            assertThat(scalers).hasSize(1);
            var scaler = map(scalers.getFirst().get("spec"));
            assertThat(map(scaler.get("scaleTargetRef")).get("name")).isEqualTo("conveyor-worker");
            var triggers = (List<?>) scaler.get("triggers");
            assertThat(triggers).isNotEmpty();
            var exported = exported();
            for (var trigger : triggers) {
                var metadata = map(map(trigger).get("metadata"));
                assertThat(map(trigger).get("type")).isEqualTo("prometheus");
                assertThat(Double.parseDouble((String) metadata.get("threshold"))).isPositive();
                var names = PromQl.metricNames((String) metadata.get("query"));
                assertThat(names).isNotEmpty().allSatisfy(name -> assertThat(isExported(name, exported))
                        .as("%s is exported", name).isTrue());
                assertLabelsExist((String) metadata.get("query"));
            }
        }

        private static List<Map<String, Object>> ofKind(List<Map<String, Object>> documents, String kind) {
            return documents.stream().filter(d -> kind.equals(d.get("kind"))).toList();
        }

        @SuppressWarnings("unchecked")
        private static Map<String, Object> map(Object value) {
            assertThat(value).isInstanceOf(Map.class);
            return (Map<String, Object>) value;
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
