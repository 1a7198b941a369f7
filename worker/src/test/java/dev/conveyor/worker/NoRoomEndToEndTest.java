package dev.conveyor.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A worker without room for a record (max-in-flight-bytes) releases it, and each release uses up one of the
 * deliveries Kafka allows a record (five by default). Released on the last one, a record was archived unstarted, and
 * the api's reconciler counted the attempt as lost, as if its worker had died running it: past max-lost-attempts the
 * job failed {@code WORKER_LOST} ("the job may be what stops its workers") without ever having run. On {@code local},
 * 800 one-second {@code sleep} jobs through a worker with room for five failed 29 that way. Now the worker hands such
 * a record's job back to the api, which dispatches the same attempt again: it never started, so it is not counted
 * (before, each hand-back took an attempt, and a job that ran once showed {@code "attempts"} up to 5).
 */
class NoRoomEndToEndTest {

    private static final String QUEUE = "roomless";

    @Test
    void jobsThatMeetOnlyAFullWorkerAreHandedBackNotCountedLost() {
        try (var system = new RunningSystem(RunningSystem.Services.embedded(), QUEUE,
                List.of("--conveyor.api.dispatch.reconcile-interval=1s"))) {
            // every record weighs more than the bound: one job at a time, the rest of each poll released
            system.startWorker(QUEUE, "full-worker", "--conveyor.worker.max-in-flight-bytes=1B");
            var ids = new ArrayList<String>();
            for (var n = 0; n < 30; n++) {
                ids.add(system.http().post("/v1/jobs", "{\"type\": \"sleep\", \"queue\": \"" + QUEUE
                        + "\", \"payload\": {\"ms\": 150}}").json().get("id").asString());
            }

            for (var id : ids) {
                var job = system.http().get("/v1/jobs/" + id + "?wait=60").json();
                assertThat(job.get("status").asString()).as("%s", job).isEqualTo("SUCCEEDED");
                assertThat(job.get("attempts").asInt()).as("attempts started, %s", job).isEqualTo(1);
            }
            var scrape = Scrape.of(system.http().get("/actuator/prometheus").text());
            // the worker's polls took the last deliveries of some records (else this test shows nothing): their jobs
            // were published again ...
            assertThat(scrape.value("conveyor_jobs_dispatched_total", "queue", QUEUE))
                    .as("records published, hand-backs included").isGreaterThan(ids.size());
            // ... yet each started once, and the api counted none of their attempts as lost
            assertThat(scrape.value("conveyor_jobs_started_total", "queue", QUEUE)).as("attempts started")
                    .isEqualTo((double) ids.size());
            assertThat(scrape.value("conveyor_dispatch_redispatched_total")).as("attempts counted as lost")
                    .isIn(null, 0.0);
        }
    }
}
