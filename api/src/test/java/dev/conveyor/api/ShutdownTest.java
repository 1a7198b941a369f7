package dev.conveyor.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An api that is stopped (SIGTERM, a deploy) answers its open long-polls at once, each with its job as it stands and
 * {@code Connection: close}, so that the client's next poll goes to another instance. Held to their {@code wait},
 * they kept the shutdown waiting Spring's 30 s limit for the web server's requests, and then lost their connections
 * without an answer.
 */
class ShutdownTest {

    @Test
    void aStoppingApiAnswersItsLongPollsWithTheirJobsAsTheyStand() throws Exception {
        var api = ApiTests.start();
        CompletableFuture<Void> closed = null;
        try {
            var http = ApiTests.client(api);
            // a job that will not end while the long-poll waits
            var id = http.post("/v1/jobs", "{\"type\": \"echo\", \"delaySeconds\": 3600}").json().get("id").asString();
            var poll = CompletableFuture.supplyAsync(() -> http.get("/v1/jobs/" + id + "?wait=60"));
            var meters = api.getBean(MeterRegistry.class);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> meters.get("conveyor.longpolls.open").gauge().value() >= 1);

            closed = CompletableFuture.runAsync(api::close);

            // well before the 30 s that the web server's graceful shutdown waits at most
            var answer = poll.get(15, TimeUnit.SECONDS);
            assertThat(answer.status()).isEqualTo(200);
            assertThat(answer.json().get("id").asString()).isEqualTo(id);
            assertThat(answer.json().get("status").asString()).isEqualTo("SCHEDULED");
            assertThat(answer.header("connection")).isEqualToIgnoringCase("close");
            closed.get(20, TimeUnit.SECONDS);
        } finally {
            if (closed == null) {
                api.close();
            }
        }
    }
}
