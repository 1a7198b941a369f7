package dev.conveyor.common.test;

import dev.conveyor.common.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import tools.jackson.databind.JsonNode;

/** A small JSON client for black-box tests of the HTTP contract. */
public final class HttpJson {

    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final HttpClient client = CLIENT;
    private final String base;
    private final String authorization;

    public HttpJson(String base) {
        this(base, null);
    }

    private HttpJson(String base, String authorization) {
        this.base = base;
        this.authorization = authorization;
    }

    /** The same client sending {@code Authorization: Bearer <key>} with every request. */
    public HttpJson withKey(String key) {
        return new HttpJson(base, "Bearer " + key);
    }

    /** A response: status, headers and the body parsed as JSON (null when empty). */
    public record Response(int status, java.net.http.HttpHeaders headers, String text) {

        public JsonNode json() {
            return text == null || text.isEmpty() ? null : Json.tree(text);
        }

        public String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        public String contentType() {
            return header("Content-Type");
        }
    }

    public Response get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET().timeout(Duration.ofSeconds(90)));
    }

    public Response get(String path, String... headers) {
        var request = HttpRequest.newBuilder(URI.create(base + path)).GET().timeout(Duration.ofSeconds(90));
        for (var i = 0; i + 1 < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return send(request);
    }

    public Response delete(String path, String... headers) {
        var request = HttpRequest.newBuilder(URI.create(base + path)).DELETE().timeout(Duration.ofSeconds(60));
        for (var i = 0; i + 1 < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return send(request);
    }

    public Response post(String path, String json) {
        return post(path, json, "application/json");
    }

    public Response post(String path, String body, String contentType, String... headers) {
        var request = HttpRequest.newBuilder(URI.create(base + path))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", contentType)
                .timeout(Duration.ofSeconds(60));
        for (var i = 0; i + 1 < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return send(request);
    }

    private Response send(HttpRequest.Builder request) {
        if (authorization != null) {
            request.setHeader("Authorization", authorization);
        }
        try {
            var response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
            return new Response(response.statusCode(), response.headers(), response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
