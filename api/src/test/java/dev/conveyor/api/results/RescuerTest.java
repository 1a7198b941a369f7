package dev.conveyor.api.results;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import dev.conveyor.common.message.JobEvent;
import dev.conveyor.common.message.JobStarted;
import dev.conveyor.common.message.WorkerHeartbeat;
import dev.conveyor.common.test.HttpJson;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/** No job stays RUNNING after its worker is gone. (No worker runs here: rescued jobs wait QUEUED again.) */
@ApiTest
class RescuerTest {

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
        registry.add("conveyor.api.worker-lost-after", () -> "1s");
        registry.add("conveyor.api.rescue-interval", () -> "200ms");
        registry.add("conveyor.api.rescue-grace", () -> "1s");
    }

    @LocalServerPort
    int port;
    @Autowired
    JdbcClient jdbc;
    @Autowired
    KafkaTemplate<String, String> kafka;

    HttpJson http;

    @BeforeEach
    void client() {
        http = ApiTests.client(port);
    }

    /** Makes a submitted job look as if {@code worker} had started attempt {@code attempts} of it. */
    private UUID runningOn(String worker, int attempts, int maxAttempts, String startedAgo, String updatedAgo,
            String sql) {
        var job = http.post("/v1/jobs", "{\"type\": \"echo\", \"queue\": \"rescue-q\", \"timeoutSeconds\": 60, "
                + "\"maxAttempts\": " + maxAttempts + "}").json();
        var id = UUID.fromString(job.get("id").asString());
        jdbc.sql("""
                UPDATE jobs SET status = 'RUNNING', attempts = :attempts, worker_id = :worker,
                    started_at = now() - CAST(:ago AS interval), updated_at = now() - CAST(:updatedAgo AS interval)
                """ + sql + " WHERE id = :id")
                .param("attempts", attempts).param("worker", worker).param("ago", startedAgo)
                .param("updatedAgo", updatedAgo).param("id", id)
                .update();
        return id;
    }

    private JsonNode job(UUID id) {
        return http.get("/v1/jobs/" + id).json();
    }

    @Test
    void retriesAnAttemptWhoseWorkerStoppedSendingHeartbeats() {
        var id = runningOn("ghost-worker", 1, 3, "10 seconds", "10 seconds", "");

        await().atMost(Duration.ofSeconds(20)).until(() -> !job(id).get("status").asString().equals("RUNNING"));
        var job = job(id);
        assertThat(job.get("status").asString()).isIn("SCHEDULED", "QUEUED");
        assertThat(job.get("error").get("code").asString()).isEqualTo("WORKER_LOST");
        assertThat(job.get("error").get("message").asString()).contains("ghost-worker");
    }

    @Test
    void aJobLostAsOftenAsAllowedFails() {
        var id = runningOn("ghost-worker", 5, 3, "10 seconds", "10 seconds",
                ", lost_attempts = 2, uncharged_attempts = 2");

        await().atMost(Duration.ofSeconds(20)).until(() -> job(id).get("status").asString().equals("FAILED"));
        assertThat(job(id).get("error").get("code").asString()).isEqualTo("WORKER_LOST");
        assertThat(job(id).get("error").get("message").asString()).contains("lost 3 times");
    }

    @Test
    void aLostAttemptOfACancelledJobEndsCancelled() {
        var id = runningOn("ghost-worker", 1, 3, "10 seconds", "10 seconds", ", cancel_requested_at = now()");

        await().atMost(Duration.ofSeconds(20)).until(() -> job(id).get("status").asString().equals("CANCELLED"));
    }

    @Test
    void retriesTheAttemptsOfAProcessWhoseIdANewProcessHasTaken() {
        // a worker restarted under a fixed id: its new process beats (every 200 ms, the api's lost-after is 1 s),
        // started a second ago; an attempt started under the id before that is the dead process's
        var worker = "restarted-" + UUID.randomUUID();
        var processStarted = Instant.now().minusSeconds(1);
        var beats = Executors.newSingleThreadScheduledExecutor();
        beats.scheduleAtFixedRate(() -> kafka.send(Topics.WORKERS, worker, Json.write(new WorkerHeartbeat(
                WorkerHeartbeat.VERSION, worker, List.of("rescue-q"), List.of("echo"), 1, 0, processStarted,
                Instant.now()))), 0, 200, TimeUnit.MILLISECONDS);
        try {
            // heard first: a pass before that would take the id for a silent worker's, and rescue both attempts
            await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/v1/workers").json().get("workers")
                    .valueStream().anyMatch(listed -> listed.get("id").asString().equals(worker)));
            var before = runningOn(worker, 1, 3, "10 seconds", "10 seconds", "");
            // started by the new process (and as quiet as the other, so that only its start tells them apart)
            var after = runningOn(worker, 1, 3, "0 seconds", "10 seconds", "");

            await().atMost(Duration.ofSeconds(20)).until(() -> !job(before).get("status").asString().equals("RUNNING"));
            var rescued = job(before);
            assertThat(rescued.get("status").asString()).isIn("SCHEDULED", "QUEUED");
            assertThat(rescued.get("error").get("code").asString()).isEqualTo("WORKER_LOST");
            assertThat(rescued.get("error").get("message").asString())
                    .contains("the process of worker " + worker + " that ran attempt 1 is gone");
            // the same pass looked at both: the new process's attempt is its own and runs on
            assertThat(job(after).get("status").asString()).isEqualTo("RUNNING");
        } finally {
            beats.shutdownNow();
        }
    }

    @Test
    void retriesAtOnceAnAttemptAppliedAfterItsWorkerWasHeardToDie() {
        // heard once, then silent: after lost-after (1 s) this api knows it is gone
        var dead = "dead-" + UUID.randomUUID();
        kafka.send(Topics.WORKERS, dead, Json.write(new WorkerHeartbeat(WorkerHeartbeat.VERSION, dead,
                List.of("rescue-q"), List.of("echo"), 1, 0, Instant.now(), Instant.now())));
        await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/v1/workers").json().get("workers")
                .valueStream().anyMatch(listed -> listed.get("id").asString().equals(dead)));
        // Starts applied just now (stamped an hour ahead, so that the row's own quiet, 1 s here, cannot be what
        // lets it go): the dead worker's is as lost as if it had been applied before the death; one of a worker
        // never heard (a new one whose first heartbeat is not read yet, for all the api knows) waits for that quiet.
        var unknown = runningOn("unheard-" + UUID.randomUUID(), 1, 3, "0 seconds", "-1 hour", "");
        var lost = runningOn(dead, 1, 3, "0 seconds", "-1 hour", "");

        await().atMost(Duration.ofSeconds(20)).until(() -> !job(lost).get("status").asString().equals("RUNNING"));
        assertThat(job(lost).get("error").get("message").asString())
                .contains("worker " + dead + " stopped sending heartbeats");
        // the pass that took the one looked at the other too
        assertThat(job(unknown).get("status").asString()).isEqualTo("RUNNING");
    }

    @Test
    void retriesAnAttemptSilentLongPastItsDeadline() {
        // updated a moment ago (so not yet a silent worker's), but it should have ended a minute ago
        var id = runningOn("busy-worker", 1, 3, "2 minutes", "0 seconds", "");

        await().atMost(Duration.ofSeconds(20)).until(() -> !job(id).get("status").asString().equals("RUNNING"));
        assertThat(job(id).get("error").get("message").asString()).contains("no outcome within its timeout");
    }

    @Test
    void countsTheDeadlineFromWhenTheStartWasRecordedWhateverTheWorkersClockSays() {
        // a live worker whose clock is ten minutes behind the api's: its heartbeats keep it alive (the api judges them
        // by its own clock), and its start says the attempt began ten minutes ago, although it began just now
        var worker = "behind-" + UUID.randomUUID();
        var behind = Duration.ofMinutes(10);
        var beats = Executors.newSingleThreadScheduledExecutor();
        beats.scheduleAtFixedRate(() -> kafka.send(Topics.WORKERS, worker, Json.write(new WorkerHeartbeat(
                WorkerHeartbeat.VERSION, worker, List.of("rescue-q"), List.of("echo"), 1, 0,
                Instant.now().minus(behind).minusSeconds(60), Instant.now().minus(behind)))), 0, 200,
                TimeUnit.MILLISECONDS);
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/v1/workers").json().get("workers")
                    .valueStream().anyMatch(listed -> listed.get("id").asString().equals(worker)));
            var submitted = http.post("/v1/jobs", "{\"type\": \"echo\", \"queue\": \"rescue-q\", "
                    + "\"timeoutSeconds\": 5}").json();
            var id = UUID.fromString(submitted.get("id").asString());
            kafka.send(Topics.EVENTS, id.toString(), Json.write(new JobStarted(JobEvent.VERSION, id, 1, 0, worker,
                    Instant.now().minus(behind))));
            await().atMost(Duration.ofSeconds(20)).until(() -> job(id).get("status").asString().equals("RUNNING"));

            // its deadline (5 s) and the grace after it (1 s) are counted on the api's clock
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(4))
                    .until(() -> job(id).get("status").asString().equals("RUNNING"));
            await().atMost(Duration.ofSeconds(20)).until(() -> !job(id).get("status").asString().equals("RUNNING"));
            assertThat(job(id).get("error").get("message").asString()).contains("no outcome within its timeout");
        } finally {
            beats.shutdownNow();
        }
    }
}
