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
import org.junit.jupiter.api.Test;

/**
 * An api stopped (SIGTERM, a deploy or a scale-in) while Kafka hangs exits within an orchestrator's grace period.
 * Nothing it holds for Kafka needs Kafka to stop (jobs not yet published are in their rows, events whose offsets were
 * not committed are applied again, which changes nothing), yet Kafka clients' defaults waited: 91 s measured by hand
 * on {@code local}, past Kubernetes' grace period of 30 s (40 s in our example Deployment), which kills the process.
 */
class StopDuringKafkaOutageTest {

    /** Kubernetes' default grace period; ours gives the api 40 s, less the preStop's 5 s. */
    static final Duration GRACE = Duration.ofSeconds(30);

    @Test
    void anApiStopsInTimeWhileKafkaHangs() throws IOException {
        var home = Files.createTempDirectory(Path.of("target"), "kafka-outage-stop").toAbsolutePath();
        var settings = new FaultCluster.Settings(1, 1, List.of("default"), Map.of(), List.of(), List.of(),
                List.of("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        try (var cluster = FaultCluster.start(settings, home, Map.of())) {
            var api = cluster.apis().getFirst();
            // jobs through the whole path, so that every Kafka client of the api has talked to the broker: the
            // dispatcher's producer, the events listener (offsets to commit), the heartbeats' reader, the admin client
            var ids = new ArrayList<String>();
            for (var i = 0; i < 20; i++) {
                var answer = Http.post(api.baseUrl(), "/v1/jobs", "{\"type\": \"echo\"}", Duration.ofSeconds(10));
                assertThat(answer.status()).as(answer.body()).isEqualTo(202);
                ids.add(answer.body().replaceAll("(?s).*\"id\"\\s*:\\s*\"([^\"]+)\".*", "$1"));
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                for (var id : ids) {
                    if (!Http.get(api.baseUrl(), "/v1/jobs/" + id, Duration.ofSeconds(10)).body()
                            .contains("\"SUCCEEDED\"")) {
                        return false;
                    }
                }
                return true;
            });

            cluster.freezeKafka();
            try {
                var started = System.nanoTime();
                var exited = api.stop(GRACE.plusSeconds(30));
                var took = Duration.ofNanos(System.nanoTime() - started);
                System.out.printf("[kafka-outage-stop] the api exited %.1f s after SIGTERM with Kafka frozen%n",
                        took.toMillis() / 1000.0);

                assertThat(exited).as("the api exited by itself").isTrue();
                assertThat(took).as("the api's stop with Kafka hanging").isLessThan(GRACE);
            } finally {
                cluster.thawKafka();
            }
        }
    }
}
