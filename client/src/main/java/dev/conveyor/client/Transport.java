package dev.conveyor.client;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/** Sends requests, sends repeatable ones again as {@link RetryPolicy} says, and turns refusals into exceptions. */
final class Transport {

    private static final String USER_AGENT = "conveyor-client/1";

    private final HttpClient http;
    private final String base;
    private final RetryPolicy retry;
    private final Duration timeout;
    /** {@code Bearer <key>}, or null; never logged nor put in a message. */
    private final String authorization;

    Transport(HttpClient http, URI base, RetryPolicy retry, Duration timeout, String apiKey) {
        this.http = http;
        // a base with a path (a proxy's prefix) keeps it
        this.base = base.toString().replaceAll("/+$", "");
        this.retry = retry;
        this.timeout = timeout;
        this.authorization = apiKey == null ? null : "Bearer " + apiKey;
    }

    /** What a request is. {@code repeatable}: safe to send again (a GET, or a POST with an idempotency key). */
    record Call(String method, String path, JsonNode body, String idempotencyKey, boolean repeatable,
            Duration extraTime) {

        static Call get(String path) {
            return new Call("GET", path, null, null, true, Duration.ZERO);
        }

        static Call post(String path, JsonNode body, boolean repeatable) {
            return new Call("POST", path, body, null, repeatable, Duration.ZERO);
        }
    }

    /** The body of a successful (2xx) answer, as JSON. */
    JsonNode send(Call call) {
        var request = request(call);
        for (var attempt = 1; ; attempt++) {
            HttpResponse<byte[]> response;
            try {
                response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
            } catch (IOException e) {
                if (!call.repeatable() || attempt >= retry.maxAttempts()) {
                    throw new ConveyorException(call.method() + " " + call.path() + " got no answer"
                            + (attempt > 1 ? " in " + attempt + " tries" : "") + ": " + e, e);
                }
                pause(retry.backoff(attempt + 1));
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ConveyorException("interrupted while waiting for " + call.path(), e);
            }
            var status = response.statusCode();
            if ((status == 503 || status == 429) && call.repeatable() && attempt < retry.maxAttempts()) {
                var next = attempt + 1;
                var wait = retryAfter(response.headers()).orElseGet(() -> retry.backoff(next));
                if (wait.compareTo(retry.maxDelay()) <= 0) {
                    pause(wait);
                    continue;
                }
            }
            if (status == 401 && authorization == null) {
                throw new ProblemException(problem(response), "this client sends no API key: set one with "
                        + "ConveyorClient.Builder.apiKey");
            }
            if (status >= 400) {
                throw new ProblemException(problem(response));
            }
            return read(response.body(), call);
        }
    }

    private HttpRequest request(Call call) {
        var builder = HttpRequest.newBuilder(URI.create(base + call.path()))
                .timeout(timeout.plus(call.extraTime()))
                .header("Accept", "application/json, application/problem+json")
                .header("User-Agent", USER_AGENT);
        if (call.body() != null) {
            builder.header("Content-Type", "application/json").method(call.method(),
                    HttpRequest.BodyPublishers.ofByteArray(ClientJson.MAPPER.writeValueAsBytes(call.body())));
        } else {
            builder.method(call.method(), HttpRequest.BodyPublishers.noBody());
        }
        if (authorization != null) {
            builder.header("Authorization", authorization);
        }
        if (call.idempotencyKey() != null) {
            builder.header("Idempotency-Key", call.idempotencyKey());
        }
        return builder.build();
    }

    /** {@code Retry-After} in seconds or as an HTTP date; absent, unreadable or negative: none. */
    static Optional<Duration> retryAfter(HttpHeaders headers) {
        var value = headers.firstValue("Retry-After").map(String::trim).orElse(null);
        if (value == null) {
            return Optional.empty();
        }
        try {
            var seconds = Long.parseLong(value);
            return seconds < 0 ? Optional.empty() : Optional.of(Duration.ofSeconds(seconds));
        } catch (NumberFormatException e) {
            try {
                var wait = Duration.between(Instant.now(),
                        ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
                return Optional.of(wait.isNegative() ? Duration.ZERO : wait);
            } catch (DateTimeParseException unreadable) {
                return Optional.empty();
            }
        }
    }

    private static Problem problem(HttpResponse<byte[]> response) {
        var status = response.statusCode();
        try {
            var problem = ClientJson.MAPPER.readValue(response.body(), Problem.class);
            if (problem != null && (problem.title() != null || problem.detail() != null)) {
                return problem.status() == status ? problem : new Problem(problem.type(), problem.title(), status,
                        problem.detail(), problem.instance(), problem.errors());
            }
        } catch (JacksonException e) {
            // not a problem document (a proxy's page, say): described below
        }
        var text = new String(response.body(), StandardCharsets.UTF_8);
        return new Problem("about:blank", "HTTP " + status, status,
                text.length() > 500 ? text.substring(0, 500) + "..." : text,
                response.request().uri().getPath(), null);
    }

    private static JsonNode read(byte[] body, Call call) {
        try {
            return ClientJson.MAPPER.readTree(body);
        } catch (JacksonException e) {
            throw new ConveyorException(call.method() + " " + call.path() + " answered something that is not JSON", e);
        }
    }

    private static void pause(Duration wait) {
        try {
            Thread.sleep(wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConveyorException("interrupted while waiting to retry", e);
        }
    }
}
