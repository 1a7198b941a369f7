package dev.conveyor.api.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Every open long-poll holds one of the web server's connections ({@code server.tomcat.max-connections}) for up to a
 * minute. Without a bound of their own, as many long-polls as there are connections (8,192 by default, in open mode
 * or spread over a few keys) left none for anything else: submissions and the health probes went unanswered until
 * the long-polls ended, and an orchestrator took the api for dead. Past {@code limits.long-polls} on the instance, a
 * long-poll is a 429, so that the other requests keep connections.
 */
@ApiTest
class LongPollsPerInstanceTest {

    private static final int CONNECTIONS = 16;
    private static final int LONG_POLLS = 6;

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
        registry.add("server.tomcat.max-connections", () -> String.valueOf(CONNECTIONS));
        registry.add("conveyor.api.limits.long-polls", () -> String.valueOf(LONG_POLLS));
    }

    @LocalServerPort
    int port;
    @Autowired
    MeterRegistry meters;

    @Test
    void longPollsPastTheInstancesBoundAreRefusedSoThatOtherRequestsStillGetConnections() {
        var http = ApiTests.client(port);
        var id = http.post("/v1/jobs", "{\"type\": \"echo\", \"queue\": \"nobody-listens\"}").json().get("id")
                .asString();
        // a client of its own: each request its own connection, as that many separate clients would have
        var clients = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        var polls = new ArrayList<CompletableFuture<HttpResponse<String>>>();
        for (var i = 0; i < CONNECTIONS + 4; i++) {
            polls.add(clients.sendAsync(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/jobs/"
                    + id + "?wait=60")).timeout(Duration.ofSeconds(90)).build(), HttpResponse.BodyHandlers.ofString()));
        }

        // the bound's worth wait; every other one is refused at once, holding no connection for a minute
        await().atMost(Duration.ofSeconds(30)).until(() -> polls.stream().filter(CompletableFuture::isDone).count()
                == CONNECTIONS + 4 - LONG_POLLS);
        assertThat(openLongPolls()).isEqualTo(LONG_POLLS);
        for (var poll : polls.stream().filter(CompletableFuture::isDone).toList()) {
            var refused = poll.join();
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(429);
            assertThat(refused.body()).contains("too-many-long-polls");
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
            // the connection goes back to the web server at once, not when the client happens to close it
            assertThat(refused.headers().firstValue("Connection")).hasValue("close");
        }

        // meanwhile the api answers everything else: a probe, a submission
        var probe = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        var liveness = probe.sendAsync(HttpRequest.newBuilder(URI.create("http://localhost:" + port
                + "/actuator/health/liveness")).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString()).join();
        assertThat(liveness.statusCode()).isEqualTo(200);
        assertThat(http.post("/v1/jobs", "{\"type\": \"echo\", \"queue\": \"nobody-listens\"}").status())
                .isEqualTo(202);

        // the job ends: the waiting ones answer it, and their places are free again
        assertThat(http.post("/v1/jobs/" + id + "/cancel", "").status()).isEqualTo(202);
        polls.stream().filter(poll -> poll.join().statusCode() == 200)
                .forEach(poll -> assertThat(poll.join().body()).contains("\"CANCELLED\""));
        assertThat(polls.stream().filter(poll -> poll.join().statusCode() == 200).count()).isEqualTo(LONG_POLLS);
        await().atMost(Duration.ofSeconds(10)).until(() -> openLongPolls() == 0);
        assertThat(http.get("/v1/jobs/" + id + "?wait=1").status()).isEqualTo(200);
        clients.shutdownNow();
        probe.shutdownNow();
    }

    private double openLongPolls() {
        return meters.get("conveyor.longpolls.open").gauge().value();
    }
}
