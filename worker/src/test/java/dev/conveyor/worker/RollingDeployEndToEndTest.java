package dev.conveyor.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A rolling deploy that adds a job type: while workers without its handler still take the queue's records, they
 * give its jobs back instead of failing them, and the jobs run once a worker with the handler gets them.
 */
class RollingDeployEndToEndTest {

    private static final String QUEUE = "rolling";
    private static final Duration WAIT = Duration.ofSeconds(60);

    /** The new type, which only the new build's workers have. */
    private static final JobHandler GREET = new JobHandler() {
        @Override
        public String type() {
            return "greet";
        }

        @Override
        public JsonNode handle(JobContext context) {
            return Json.tree("{\"hello\": \"" + context.payload().get("name").asString() + "\"}");
        }
    };

    @Test
    void jobsOfATypeOnlyNewWorkersHaveWaitForThemInsteadOfFailing() {
        try (var system = new RunningSystem(QUEUE, "old-worker")) {
            system.startWorker(QUEUE, "new-worker", List.of(GREET));
            await().atMost(WAIT).until(() -> system.http().get("/v1/workers").json().get("workers").valueStream()
                    .anyMatch(w -> w.get("id").asString().equals("new-worker")
                            && w.get("types").toString().contains("\"greet\"")));

            // the queue's three partitions are shared out among the four consumers of the two workers, so the old
            // worker takes some of the forty
            var jobs = new StringBuilder();
            for (var i = 0; i < 40; i++) {
                jobs.append(i == 0 ? "" : ",").append("{\"type\": \"greet\", \"queue\": \"" + QUEUE
                        + "\", \"maxAttempts\": 1, \"payload\": {\"name\": \"n" + i + "\"}}");
            }
            var response = system.http().post("/v1/jobs/batch", "{\"jobs\": [" + jobs + "]}");
            assertThat(response.status()).as(response.text()).isEqualTo(202);
            var ids = new ArrayList<String>();
            response.json().get("jobs").forEach(job -> ids.add(job.get("id").asString()));

            // given back by the old worker, not failed: the api knows another worker of the queue has the handler
            await().atMost(WAIT).until(() -> ids.stream()
                    .map(id -> system.http().get("/v1/jobs/" + id).json().path("error"))
                    .anyMatch(error -> "NO_HANDLER".equals(error.path("code").asString(null))
                            && error.get("retryable").asBoolean()
                            && error.get("message").asString().contains("another worker of queue 'rolling' has one")));

            // the deploy goes on: the old worker is replaced, and its partitions go to the new one
            system.stopWorker("old-worker");

            var handedBack = 0;
            for (var id : ids) {
                var job = system.http().get("/v1/jobs/" + id + "?wait=60").json();
                assertThat(job.get("status").asString()).as("%s", job).isEqualTo("SUCCEEDED");
                assertThat(job.get("result").get("hello").asString()).startsWith("n");
                handedBack += job.get("attempts").asInt() > 1 ? 1 : 0;
            }
            // each of those ran on its first charged attempt: maxAttempts 1 was not spent on the old worker
            assertThat(handedBack).isPositive();
        }
    }

}
