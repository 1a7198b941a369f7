package dev.conveyor.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import dev.conveyor.common.message.WorkerHeartbeat;
import dev.conveyor.common.test.TestKafka;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * A rolling deploy that adds a job type: while workers without its handler still take the queue's records, they
 * give its jobs back instead of failing them, and the jobs run once a worker with the handler gets them.
 */
class RollingDeployEndToEndTest {

    private static final String QUEUE = "rolling";
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void jobsOfATypeOnlyNewWorkersHaveWaitForThemInsteadOfFailing() {
        var heartbeats = new KafkaProducer<String, String>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class));
        var beating = Executors.newSingleThreadScheduledExecutor();
        try (var system = new RunningSystem(QUEUE, "old-worker"); heartbeats) {
            // A new-build worker the api hears from but whose consumers have not joined the queue's share group yet,
            // so that the old worker takes every record (a real one would share the partitions with it at once)
            var starting = Instant.now();
            beating.scheduleAtFixedRate(() -> heartbeats.send(new ProducerRecord<>(Topics.WORKERS, "new-worker-0",
                    Json.write(new WorkerHeartbeat(WorkerHeartbeat.VERSION, "new-worker-0", List.of(QUEUE),
                            List.of("echo", "greet"), 0, 0, starting, Instant.now())))), 0, 200, TimeUnit.MILLISECONDS);
            await().atMost(WAIT).until(() -> system.http().get("/v1/workers").json().get("workers").valueStream()
                    .anyMatch(w -> w.get("id").asString().equals("new-worker-0")));

            var ids = Greetings.submit(system, QUEUE, 40);

            // every one given back by the old worker, none failed: while the api has not read the heartbeats up to
            // date it cannot tell, and after that it knows another worker of the queue has the handler
            await().atMost(WAIT).until(() -> ids.stream().allMatch(id -> {
                var job = system.http().get("/v1/jobs/" + id).json();
                var error = job.path("error");
                return !job.get("status").asString().equals("FAILED")
                        && "NO_HANDLER".equals(error.path("code").asString(null))
                        && error.get("retryable").asBoolean();
            }));
            await().atMost(WAIT).until(() -> ids.stream().anyMatch(id -> system.http().get("/v1/jobs/" + id).json()
                    .path("error").path("message").asString("").contains("another worker of queue 'rolling' has one")));

            // the deploy goes on: the new worker's consumers join, and the old worker goes away
            system.startWorker(QUEUE, "new-worker-1", List.of(Greetings.HANDLER));
            beating.shutdownNow();
            system.stopWorker("old-worker");

            for (var id : ids) {
                var job = system.http().get("/v1/jobs/" + id + "?wait=60").json();
                assertThat(job.get("status").asString()).as("%s", job).isEqualTo("SUCCEEDED");
                assertThat(job.get("result").get("hello").asString()).startsWith("n");
                // given back once or more without running (its error says so), then run once: maxAttempts 1 was not
                // spent on the old worker, and the hand-backs are not attempts
                assertThat(job.get("attempts").asInt()).as("%s", job).isEqualTo(1);
                assertThat(job.path("error").path("code").asString(null)).as("%s", job).isEqualTo("NO_HANDLER");
            }
        } finally {
            beating.shutdownNow();
        }
    }
}
