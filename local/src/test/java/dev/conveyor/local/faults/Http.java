package dev.conveyor.local.faults;

import dev.conveyor.common.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import tools.jackson.databind.JsonNode;

/**
 * The suite's HTTP client. Unlike common's {@code HttpJson} it lets {@link IOException} through: "no answer"
 * (connection refused or reset, timeout) is an outcome the fault scenarios tell apart from any status.
 */
final class Http {

    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
            .version(HttpClient.Version.HTTP_1_1).build();

    private Http() {
    }

    /** An answer: status, content type and body. */
    record Answer(int status, String contentType, String body, java.net.http.HttpHeaders headers) {

        JsonNode json() {
            return body == null || body.isEmpty() ? null : Json.tree(body);
        }

        boolean isProblem() {
            return contentType != null && contentType.startsWith("application/problem+json");
        }

        String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        @Override
        public String toString() {
            return status + " " + contentType + " " + (body.length() > 300 ? body.substring(0, 300) + "..." : body);
        }
    }

    static Answer post(String base, String path, String json, Duration timeout, String... headers) throws IOException {
        var request = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
        for (var i = 0; i + 1 < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return send(request.build());
    }

    static Answer get(String base, String path, Duration timeout) throws IOException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout).GET().build());
    }

    private static Answer send(HttpRequest request) throws IOException {
        try {
            var response = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
            return new Answer(response.statusCode(), response.headers().firstValue("Content-Type").orElse(null),
                    response.body(), response.headers());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
