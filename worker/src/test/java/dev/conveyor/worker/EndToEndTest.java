package dev.conveyor.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import dev.conveyor.common.test.TestKafka;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/** Submit over HTTP, dispatch over Kafka, run on two workers, record in PostgreSQL, poll the outcome. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EndToEndTest {

    private static final String QUEUE = "e2e";
    private static final String LONG_QUEUE = "e2e-long";

    private RunningSystem system;

    @BeforeAll
    void start() throws Exception {
        // Locks on the long queue last 2 s: a 5 s job must still run once (its record is accepted when it starts).
        try (var admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                TestKafka.bootstrapServers()))) {
            var group = new ConfigResource(ConfigResource.Type.GROUP, Topics.shareGroup(LONG_QUEUE));
            admin.incrementalAlterConfigs(Map.of(group, List.of(new AlterConfigOp(
                    new ConfigEntry("share.record.lock.duration.ms", "2000"), AlterConfigOp.OpType.SET))))
                    .all().get();
        }
        system = new RunningSystem(QUEUE + "," + LONG_QUEUE, "worker-a", "worker-b");
    }

    @AfterAll
    void stop() {
        system.close();
    }

    private JsonNode submit(String body) {
        var response = system.http().post("/v1/jobs", body);
        assertThat(response.status()).as(response.text()).isEqualTo(202);
        return response.json();
    }

    private JsonNode awaitEnd(JsonNode job) {
        var response = system.http().get("/v1/jobs/" + job.get("id").asString() + "?wait=60");
        assertThat(response.status()).isEqualTo(200);
        var now = response.json();
        assertThat(now.get("status").asString()).as("state after waiting: %s", now)
                .isIn("SUCCEEDED", "FAILED", "CANCELLED");
        return now;
    }

    @Nested
    class ManyJobs {

        @Test
        void aThousandMixedJobsSubmittedSinglyAndInBatchesEndRightAndSpreadOverBothWorkers() throws Exception {
            var requests = new ArrayList<String>();
            for (var i = 0; i < 1000; i++) {
                requests.add(switch (i % 4) {
                    case 0 -> "{\"type\": \"echo\", \"queue\": \"e2e\", \"payload\": {\"n\": " + i + "}}";
                    case 1 -> "{\"type\": \"sleep\", \"queue\": \"e2e\", \"payload\": {\"ms\": " + (i % 50) + "}}";
                    case 2 -> "{\"type\": \"fail\", \"queue\": \"e2e\", \"maxAttempts\": 2, "
                            + "\"payload\": {\"message\": \"no " + i + "\", \"retryable\": false}}";
                    default -> "{\"type\": \"fail\", \"queue\": \"e2e\", \"maxAttempts\": 3, "
                            + "\"payload\": {\"untilAttempt\": 2}}";
                });
            }
            var submitted = new ArrayList<JsonNode>();
            try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
                var singles = new ArrayList<Future<JsonNode>>();
                for (var i = 0; i < 500; i++) {
                    var body = requests.get(i);
                    singles.add(threads.submit(() -> submit(body)));
                }
                for (var single : singles) {
                    submitted.add(single.get());
                }
            }
            for (var from = 500; from < 1000; from += 100) {
                var response = system.http().post("/v1/jobs/batch",
                        "{\"jobs\": [" + String.join(",", requests.subList(from, from + 100)) + "]}");
                assertThat(response.status()).isEqualTo(202);
                response.json().get("jobs").forEach(submitted::add);
            }
            assertThat(submitted).hasSize(1000);

            var ended = new ArrayList<JsonNode>();
            try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
                var waits = submitted.stream().map(job -> threads.submit(() -> awaitEnd(job))).toList();
                for (var wait : waits) {
                    ended.add(wait.get());
                }
            }
            var workers = new HashSet<String>();
            for (var i = 0; i < 1000; i++) {
                var job = ended.get(i);
                workers.add(job.get("workerId").asString());
                switch (i % 4) {
                    case 0 -> {
                        assertThat(job.get("status").asString()).isEqualTo("SUCCEEDED");
                        assertThat(job.get("result")).isEqualTo(Json.tree("{\"n\": " + i + "}"));
                        assertThat(job.get("attempts").asInt()).isEqualTo(1);
                    }
                    case 1 -> {
                        assertThat(job.get("status").asString()).isEqualTo("SUCCEEDED");
                        assertThat(job.get("result")).isEqualTo(Json.tree("{\"sleptMs\": " + (i % 50) + "}"));
                    }
                    case 2 -> {
                        assertThat(job.get("status").asString()).isEqualTo("FAILED");
                        assertThat(job.get("attempts").asInt()).isEqualTo(1);
                        assertThat(job.get("error")).isEqualTo(Json.tree(
                                "{\"code\": \"HANDLER_ERROR\", \"message\": \"no " + i + "\", \"retryable\": false}"));
                        assertThat(job.get("result").isNull()).isTrue();
                    }
                    default -> {
                        assertThat(job.get("status").asString()).isEqualTo("SUCCEEDED");
                        assertThat(job.get("attempts").asInt()).isEqualTo(2);
                        assertThat(job.get("result")).isEqualTo(Json.tree("{\"attempt\": 2}"));
                    }
                }
            }
            assertThat(workers).containsExactlyInAnyOrder("worker-a", "worker-b");
        }
    }

    @Nested
    class Retries {

        @Test
        void aFailingJobSucceedsOnItsThirdAttemptAfterBackoff() {
            var job = awaitEnd(submit("""
                    {"type": "fail", "queue": "e2e", "maxAttempts": 3, "payload": {"untilAttempt": 3}}"""));

            assertThat(job.get("status").asString()).isEqualTo("SUCCEEDED");
            assertThat(job.get("attempts").asInt()).isEqualTo(3);
            assertThat(job.get("result")).isEqualTo(Json.tree("{\"attempt\": 3}"));
            // the last failure stays on record
            assertThat(job.get("error").get("code").asString()).isEqualTo("HANDLER_ERROR");
        }

        @Test
        void aJobThatAlwaysFailsEndsFailedAfterExactlyMaxAttempts() {
            var job = awaitEnd(submit("""
                    {"type": "fail", "queue": "e2e", "maxAttempts": 3}"""));

            assertThat(job.get("status").asString()).isEqualTo("FAILED");
            assertThat(job.get("attempts").asInt()).isEqualTo(3);
            assertThat(job.get("error")).isEqualTo(Json.tree(
                    "{\"code\": \"HANDLER_ERROR\", \"message\": \"fail\", \"retryable\": true}"));
        }

        @Test
        void aJobOfATypeNoWorkerHasFailsWithNoHandler() {
            var job = awaitEnd(submit("""
                    {"type": "no-such-type", "queue": "e2e", "maxAttempts": 5}"""));

            assertThat(job.get("status").asString()).isEqualTo("FAILED");
            assertThat(job.get("error").get("code").asString()).isEqualTo("NO_HANDLER");
            assertThat(job.get("error").get("retryable").asBoolean()).isFalse();
            // Once the api has read the workers' heartbeats up to date, at once (before that it cannot tell, and a
            // worker gives the job back to be tried again)
            assertThat(job.get("error").get("message").asString())
                    .startsWith("no live worker of queue 'e2e' has a handler for job type 'no-such-type'")
                    .contains("it runs [echo, fail, http, sleep]");
        }
    }

    @Nested
    class Time {

        @Test
        void aSleepLongerThanItsTimeoutEndsWithTimeout() {
            var job = awaitEnd(submit("""
                    {"type": "sleep", "queue": "e2e", "maxAttempts": 1, "timeoutSeconds": 1,
                     "payload": {"ms": 600000}}"""));

            assertThat(job.get("status").asString()).isEqualTo("FAILED");
            assertThat(job.get("error").get("code").asString()).isEqualTo("TIMEOUT");
        }

        @Test
        void aDelayedJobStaysScheduledUntilItsRunAtThenRuns() {
            var submitted = submit("""
                    {"type": "echo", "queue": "e2e", "delaySeconds": 2, "payload": {"late": true}}""");
            var runAt = Instant.parse(submitted.get("runAt").asString());

            assertThat(submitted.get("status").asString()).isEqualTo("SCHEDULED");
            var early = system.http().get("/v1/jobs/" + submitted.get("id").asString()).json();
            if (Instant.now().isBefore(runAt)) {
                assertThat(early.get("status").asString()).isEqualTo("SCHEDULED");
            }
            var job = awaitEnd(submitted);
            assertThat(job.get("status").asString()).isEqualTo("SUCCEEDED");
            assertThat(Instant.parse(job.get("startedAt").asString())).isAfterOrEqualTo(runAt);
        }

        @Test
        void waitAnswersAsSoonAsTheJobEnds() {
            var submitted = submit("""
                    {"type": "sleep", "queue": "e2e", "payload": {"ms": 300}}""");

            var response = system.http().get("/v1/jobs/" + submitted.get("id").asString() + "?wait=60");

            assertThat(response.status()).isEqualTo(200);
            assertThat(response.json().get("status").asString()).isEqualTo("SUCCEEDED");
            assertThat(response.json().get("result")).isEqualTo(Json.tree("{\"sleptMs\": 300}"));
        }

        @Test
        void aJobLongerThanItsRecordLockRunsOnce() {
            var job = awaitEnd(submit("""
                    {"type": "sleep", "queue": "e2e-long", "payload": {"ms": 5000}}"""));

            assertThat(job.get("status").asString()).isEqualTo("SUCCEEDED");
            assertThat(job.get("attempts").asInt()).isEqualTo(1);
        }
    }
}
