package dev.conveyor.local.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * W2's note reports the HTTP server's most requests at once next to its connections, to show the worker's per-host
 * limit held; one client sending one request after another on one connection is one request at a time.
 */
class DelayServerTest {

    @Test
    void requestsOneAfterAnotherOnOneConnectionAreOneAtATime() throws Exception {
        try (var server = new DelayServer(Duration.ZERO);
                var client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            server.reset();
            for (var i = 0; i < 500; i++) {
                var response = client.send(HttpRequest.newBuilder(server.uri()).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).isEqualTo(200);
            }
            assertThat(server.connections()).isEqualTo(1);
            assertThat(server.mostAtOnce()).isEqualTo(1);
        }
    }
}
