package dev.conveyor.api.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A client's mistakes are its answer's business, not the log's: the paths open without a key (the dashboard's files,
 * the OpenAPI document, the probes) are open to anyone who reaches the api, and a line logged for each request
 * refused there would let anyone fill the log, as fast as they can send.
 */
@ApiTest
@ExtendWith(OutputCaptureExtension.class)
class RefusalLogTest {

    private static final String ADMIN = "cvk_test-refusals-admin-0123456789abcdef0123456789abcdef";
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
        ApiTests.apiKey(registry, 0, "ops-admin", "ops", ADMIN, "admin");
    }

    @LocalServerPort
    int port;

    private int send(String method, String path, String... headers) throws Exception {
        var request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .method(method, HttpRequest.BodyPublishers.ofString("{}")).timeout(Duration.ofSeconds(30));
        for (var i = 0; i + 1 < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return CLIENT.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** The lines at WARN or ERROR, each cut to its first 200 characters. */
    private static List<String> warnings(String log) {
        return log.lines().filter(line -> line.contains(" WARN ") || line.contains(" ERROR "))
                .map(line -> line.length() > 200 ? line.substring(0, 200) : line).toList();
    }

    @Test
    void requestsRefusedOnTheOpenPathsLogNothing(CapturedOutput output) throws Exception {
        var before = output.getAll().length();
        var longMethod = "X".repeat(4000);
        var statuses = new ArrayList<Integer>();
        for (var i = 0; i < 20; i++) {
            for (var path : List.of("/", "/index.html", "/js/api.js", "/actuator/health/readiness",
                    "/actuator/health/liveness", "/v3/api-docs", "/swagger-ui.html")) {
                statuses.add(send("PUT", path));
                statuses.add(send("DELETE", path));
                statuses.add(send(longMethod, path));
                statuses.add(send("GET", path, "Accept", "application/x-not-json"));
            }
        }
        assertThat(statuses).as("refused").contains(405);
        assertThat(warnings(output.getAll().substring(before)))
                .as("lines logged for requests refused on the open paths").isEmpty();
    }

    @Test
    void aKeysWrongMethodsLogNothingEither(CapturedOutput output) throws Exception {
        var before = output.getAll().length();
        for (var i = 0; i < 20; i++) {
            assertThat(send("DELETE", "/v1/jobs", "Authorization", "Bearer " + ADMIN)).isEqualTo(405);
            assertThat(send("PATCH", "/v1/queues", "Authorization", "Bearer " + ADMIN)).isEqualTo(405);
        }
        assertThat(warnings(output.getAll().substring(before)))
                .as("lines logged for requests refused").isEmpty();
    }
}
