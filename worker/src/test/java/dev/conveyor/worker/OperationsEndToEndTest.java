package dev.conveyor.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import dev.conveyor.common.test.TestKafka;
import dev.conveyor.worker.execute.JobRunner;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/** What an operator does when something goes wrong: cancel, retry, limit, watch progress, stop a worker. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OperationsEndToEndTest {

    private final RecordingHandler slow = new RecordingHandler("slow", Duration.ofMinutes(5));
    private final RecordingHandler limited = new RecordingHandler("limited", Duration.ofMillis(300));
    private RunningSystem system;

    @BeforeAll
    void start() {
        system = new RunningSystem("ops,ops-idle,ops-stop", new String[0]);
        system.startWorker("ops", "ops-worker-1", List.of(slow, limited), "--conveyor.worker.type-limits.limited=2");
    }

    @AfterAll
    void stop() {
        slow.release();
        system.close();
    }

    private JsonNode submit(String body) {
        var response = system.http().post("/v1/jobs", body);
        assertThat(response.status()).as(response.text()).isEqualTo(202);
        return response.json();
    }

    private JsonNode get(JsonNode job, String query) {
        return system.http().get("/v1/jobs/" + job.get("id").asString() + query).json();
    }

    private String status(JsonNode job) {
        return get(job, "").get("status").asString();
    }

    private static UUID id(JsonNode job) {
        return UUID.fromString(job.get("id").asString());
    }

    @Nested
    class Cancel {

        @Test
        void aQueuedJobWhoseRecordIsOnKafkaNeverStarts() {
            var idle = new RecordingHandler("idle", Duration.ZERO);
            var job = submit("{\"type\": \"idle\", \"queue\": \"ops-idle\"}");
            await().atMost(Duration.ofSeconds(20)).until(() -> recordsOn(Topics.jobs("ops-idle")) >= 1);

            var cancel = system.http().post("/v1/jobs/" + id(job) + "/cancel", "");

            assertThat(cancel.status()).isEqualTo(202);
            assertThat(cancel.json().get("status").asString()).isEqualTo("CANCELLED");
            var other = submit("{\"type\": \"idle\", \"queue\": \"ops-idle\"}");
            var worker = system.startWorker("ops-idle", "ops-idle-worker", List.of(idle));
            var runner = worker.getBean(JobRunner.class);
            // the worker reports both records: the second run, the first skipped
            await().atMost(Duration.ofSeconds(30)).until(() -> runner.completed() >= 2);
            assertThat(get(other, "?wait=30").get("status").asString()).isEqualTo("SUCCEEDED");
            assertThat(idle.invocations(id(job))).isZero();
            assertThat(status(job)).isEqualTo("CANCELLED");

            var retried = system.http().post("/v1/jobs/" + id(job) + "/retry", "");

            assertThat(retried.status()).isEqualTo(202);
            assertThat(retried.json().get("status").asString()).isEqualTo("QUEUED");
            assertThat(get(job, "?wait=30").get("status").asString()).isEqualTo("SUCCEEDED");
            assertThat(idle.invocations(id(job))).isEqualTo(1);
        }

        @Test
        void aRunningJobIsInterruptedAndEndsCancelled() {
            var job = submit("{\"type\": \"sleep\", \"queue\": \"ops\", \"payload\": {\"ms\": 600000}}");
            await().atMost(Duration.ofSeconds(20)).until(() -> status(job).equals("RUNNING"));

            var cancel = system.http().post("/v1/jobs/" + id(job) + "/cancel", "");

            assertThat(cancel.status()).isEqualTo(202);
            var ended = get(job, "?wait=30");
            assertThat(ended.get("status").asString()).isEqualTo("CANCELLED");
            assertThat(ended.get("error").get("code").asString()).isEqualTo("CANCELLED");
            assertThat(ended.get("attempts").asInt()).isEqualTo(1);
            assertThat(Duration.between(Instant.parse(ended.get("startedAt").asString()),
                    Instant.parse(ended.get("finishedAt").asString()))).isLessThan(Duration.ofSeconds(30));
        }

        @Test
        void aTerminalJobCannotBeCancelled() {
            var job = get(submit("{\"type\": \"echo\", \"queue\": \"ops\"}"), "?wait=30");

            var cancel = system.http().post("/v1/jobs/" + id(job) + "/cancel", "");

            assertThat(cancel.status()).isEqualTo(409);
            assertThat(cancel.contentType()).startsWith("application/problem+json");
        }

        @Test
        void anUnknownJobIs404() {
            assertThat(system.http().post("/v1/jobs/" + UUID.randomUUID() + "/cancel", "").status()).isEqualTo(404);
            assertThat(system.http().post("/v1/jobs/" + UUID.randomUUID() + "/retry", "").status()).isEqualTo(404);
        }
    }

    @Nested
    class Retry {

        @Test
        void aFailedJobRetriedWithAFreshBudgetSucceeds() {
            var failed = get(submit("""
                    {"type": "fail", "queue": "ops", "maxAttempts": 1, "payload": {"untilAttempt": 2}}"""),
                    "?wait=30");
            assertThat(failed.get("status").asString()).isEqualTo("FAILED");

            var retried = system.http().post("/v1/jobs/" + id(failed) + "/retry", "").json();

            assertThat(retried.get("status").asString()).isEqualTo("QUEUED");
            assertThat(retried.get("maxAttempts").asInt()).isEqualTo(2);
            assertThat(retried.get("error").get("code").asString()).isEqualTo("HANDLER_ERROR");
            var ended = get(failed, "?wait=30");
            assertThat(ended.get("status").asString()).isEqualTo("SUCCEEDED");
            assertThat(ended.get("attempts").asInt()).isEqualTo(2);
            assertThat(ended.get("result")).isEqualTo(Json.tree("{\"attempt\": 2}"));
        }

        @Test
        void onlyFailedOrCancelledJobsCanBeRetried() {
            var job = submit("{\"type\": \"echo\", \"queue\": \"ops\", \"delaySeconds\": 3600}");

            var retry = system.http().post("/v1/jobs/" + id(job) + "/retry", "");

            assertThat(retry.status()).isEqualTo(409);
        }
    }

    @Nested
    class Limits {

        @Test
        void aTypeLimitOfTwoIsNeverExceededWhileOtherTypesProceed() throws Exception {
            var limitedJobs = new ArrayList<JsonNode>();
            for (var i = 0; i < 8; i++) {
                limitedJobs.add(submit("{\"type\": \"limited\", \"queue\": \"ops\"}"));
            }
            var echoes = new ArrayList<JsonNode>();
            for (var i = 0; i < 8; i++) {
                echoes.add(submit("{\"type\": \"echo\", \"queue\": \"ops\"}"));
            }

            var lastEcho = echoes.stream().map(e -> get(e, "?wait=30"))
                    .peek(e -> assertThat(e.get("status").asString()).isEqualTo("SUCCEEDED"))
                    .map(e -> Instant.parse(e.get("finishedAt").asString())).max(Instant::compareTo).orElseThrow();
            var lastLimited = limitedJobs.stream().map(e -> get(e, "?wait=30"))
                    .peek(e -> assertThat(e.get("status").asString()).isEqualTo("SUCCEEDED"))
                    .map(e -> Instant.parse(e.get("finishedAt").asString())).max(Instant::compareTo).orElseThrow();

            assertThat(limited.mostAtOnce()).isEqualTo(2);
            // eight 300 ms jobs two at a time take over a second; the echoes did not wait for them
            assertThat(lastEcho).isBefore(lastLimited);
        }
    }

    @Nested
    class Progress {

        @Test
        void aRunningJobShowsTheProgressItReported() {
            var job = submit("{\"type\": \"slow\", \"queue\": \"ops\"}");

            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                var progress = get(job, "").get("progress");
                assertThat(progress.isObject()).as("progress %s", progress).isTrue();
                assertThat(progress.get("fraction").asDouble()).isEqualTo(0.5);
                assertThat(progress.get("message").asString()).isEqualTo("half way");
            });
            system.http().post("/v1/jobs/" + id(job) + "/cancel", "");
            assertThat(get(job, "?wait=30").get("status").asString()).isEqualTo("CANCELLED");
        }
    }

    @Nested
    class Shutdown {

        @Test
        void aWorkerStoppedWithJobsInFlightLosesNoneAndReportsEachAttemptOnce() throws Exception {
            var brief = new RecordingHandler("brief", Duration.ofMillis(1500));
            var leaving = system.startWorker("ops-stop", "ops-stop-leaving", List.of(brief),
                    "--conveyor.worker.shutdown-grace=200ms");
            var jobs = new ArrayList<JsonNode>();
            for (var i = 0; i < 20; i++) {
                jobs.add(submit("{\"type\": \"brief\", \"queue\": \"ops-stop\", \"maxAttempts\": 1}"));
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> leaving.getBean(JobRunner.class).inFlight() > 0);

            leaving.close();
            system.startWorker("ops-stop", "ops-stop-staying", List.of(brief));

            for (var job : jobs) {
                assertThat(get(job, "?wait=60").get("status").asString()).isEqualTo("SUCCEEDED");
            }
            // jobs interrupted at the end of the grace period were handed back (one WORKER_LOST report for that
            // attempt) and finished by the other worker (one report for the next attempt)
            var finished = finishedEventsPerAttempt();
            for (var job : jobs) {
                var attempts = get(job, "").get("attempts").asInt();
                for (var attempt = 1; attempt <= attempts; attempt++) {
                    assertThat(finished.get(id(job) + "#" + attempt)).as("outcomes of %s#%s", id(job), attempt)
                            .isEqualTo(1);
                }
            }
        }
    }

    private static long recordsOn(String topic) {
        try (var consumer = consumer()) {
            var partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            return consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
        }
    }

    private static Map<String, Integer> finishedEventsPerAttempt() {
        var counts = new HashMap<String, Integer>();
        try (var consumer = consumer()) {
            var partitions = consumer.partitionsFor(Topics.EVENTS).stream()
                    .map(p -> new TopicPartition(Topics.EVENTS, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            var end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (var record : consumer.poll(Duration.ofMillis(500))) {
                    var event = Json.tree(record.value());
                    if (event.get("event").asString().equals("finished")) {
                        counts.merge(record.key() + "#" + event.get("attempt").asInt(), 1, Integer::sum);
                    }
                }
            }
        }
        return counts;
    }

    private static KafkaConsumer<String, String> consumer() {
        return new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers()),
                new StringDeserializer(), new StringDeserializer());
    }
}
