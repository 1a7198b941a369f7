package dev.conveyor.local.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.local.FaultCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * An api and a worker stopped (SIGTERM, a deploy or a scale-in) while Kafka hangs exit within an orchestrator's grace
 * period. Nothing the api holds for Kafka needs Kafka to stop (jobs not yet published are in their rows, events whose
 * offsets were not committed are applied again, which changes nothing), yet Kafka clients' defaults waited: 91 s
 * measured by hand on {@code local}, past Kubernetes' grace period of 30 s (40 s in our example Deployment), which
 * kills the process. A worker hands back the jobs still running after its {@code shutdown-grace}; with Kafka hanging
 * neither that nor their records' release can reach anyone, and the api rescues them once the worker is silent, so
 * past the grace it has only a few seconds of waiting for Kafka to spend: its Deployment gives it 15 s more than
 * the grace. Before this was bounded an idle worker took 50.7 s.
 */
class StopDuringKafkaOutageTest {

    /** Kubernetes' default grace period; ours gives the api 40 s, less the preStop's 5 s. */
    static final Duration API_GRACE = Duration.ofSeconds(30);
    /** The worker's shutdown-grace here (30 s by default), for the jobs still running to finish. */
    static final Duration WORKER_SHUTDOWN_GRACE = Duration.ofSeconds(5);
    /** What our example worker Deployment gives a worker beyond its shutdown-grace (45 s against 30). */
    static final Duration WORKER_ALLOWANCE = Duration.ofSeconds(15);

    @Test
    void anApiAndAWorkerStopInTimeWhileKafkaHangs() throws IOException {
        var home = Files.createTempDirectory(Path.of("target"), "kafka-outage-stop").toAbsolutePath();
        var settings = new FaultCluster.Settings(1, 1, List.of("default"), Map.of(), List.of(),
                List.of("--conveyor.worker.shutdown-grace=" + WORKER_SHUTDOWN_GRACE.toSeconds() + "s"),
                List.of("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        try (var cluster = FaultCluster.start(settings, home, Map.of())) {
            var api = cluster.apis().getFirst();
            var worker = cluster.workers().getFirst();
            // jobs through the whole path, so that every Kafka client of the api and the worker has talked to the
            // broker: the dispatcher's producer, the events listener (offsets to commit), the heartbeats' reader, the
            // admin clients, the worker's share consumer and producer
            var ids = new ArrayList<String>();
            for (var i = 0; i < 20; i++) {
                ids.add(submit(api, "{\"type\": \"echo\"}"));
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> allIn(api, ids, "SUCCEEDED"));
            // and jobs that are still running when the worker's grace ends: they are interrupted and handed back
            var sleeping = new ArrayList<String>();
            for (var i = 0; i < 5; i++) {
                sleeping.add(submit(api, "{\"type\": \"sleep\", \"payload\": {\"ms\": 600000}}"));
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> allIn(api, sleeping, "RUNNING"));

            cluster.freezeKafka();
            try {
                var apiStop = CompletableFuture.supplyAsync(() -> timedStop(api::stop, API_GRACE.plusSeconds(30)));
                var workerStop = timedStop(worker::stop, WORKER_SHUTDOWN_GRACE.plus(WORKER_ALLOWANCE).plusSeconds(45));
                var apiStopped = apiStop.join();
                System.out.printf("[kafka-outage-stop] with Kafka frozen, the api exited %.1f s after SIGTERM, "
                        + "the worker (5 jobs running, shutdown-grace %d s) %.1f s%n", apiStopped.seconds(),
                        WORKER_SHUTDOWN_GRACE.toSeconds(), workerStop.seconds());

                assertThat(apiStopped.exited()).as("the api exited by itself").isTrue();
                assertThat(apiStopped.took()).as("the api's stop with Kafka hanging").isLessThan(API_GRACE);
                assertThat(workerStop.exited()).as("the worker exited by itself").isTrue();
                assertThat(workerStop.took()).as("the worker's stop with Kafka hanging")
                        .isLessThan(WORKER_SHUTDOWN_GRACE.plus(WORKER_ALLOWANCE));
                // the hand-backs Kafka never took: one line in all, not a line or two for each (thousands at once,
                // with a worker's usual load)
                var log = Files.readString(worker.log());
                assertThat(log).contains("Kafka has not taken the outcomes or hand-backs of 5 jobs")
                        .doesNotContain("Could not report the outcome of job")
                        .doesNotContain("Kafka did not take the outcome of job");
            } finally {
                cluster.thawKafka();
            }
        }
    }

    private static String submit(FaultCluster.Api api, String json) throws IOException {
        var answer = Http.post(api.baseUrl(), "/v1/jobs", json, Duration.ofSeconds(10));
        assertThat(answer.status()).as(answer.body()).isEqualTo(202);
        return answer.body().replaceAll("(?s).*\"id\"\\s*:\\s*\"([^\"]+)\".*", "$1");
    }

    private static boolean allIn(FaultCluster.Api api, List<String> ids, String status) throws IOException {
        for (var id : ids) {
            if (!Http.get(api.baseUrl(), "/v1/jobs/" + id, Duration.ofSeconds(10)).body()
                    .contains("\"" + status + "\"")) {
                return false;
            }
        }
        return true;
    }

    private static Stopped timedStop(java.util.function.Function<Duration, Boolean> stop, Duration wait) {
        var started = System.nanoTime();
        var exited = stop.apply(wait);
        return new Stopped(exited, Duration.ofNanos(System.nanoTime() - started));
    }

    private record Stopped(boolean exited, Duration took) {
        double seconds() {
            return took.toMillis() / 1000.0;
        }
    }
}
