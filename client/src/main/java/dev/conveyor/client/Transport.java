package dev.conveyor.client;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/** Sends requests, sends repeatable ones again as {@link RetryPolicy} says, and turns refusals into exceptions. */
final class Transport {

    private static final String USER_AGENT = "conveyor-client/1";

    private final HttpClient http;
    private final String base;
    private final RetryPolicy retry;
    private final Duration timeout;
    private final long maxResponseBytes;
    private volatile boolean closed;
    /** {@code Bearer <key>}, or null; never logged nor put in a message. */
    private final String authorization;

    Transport(HttpClient http, URI base, RetryPolicy retry, Duration timeout, long maxResponseBytes, String apiKey) {
        this.http = http;
        // a base with a path (a proxy's prefix) keeps it
        this.base = base.toString().replaceAll("/+$", "");
        this.retry = retry;
        this.timeout = timeout;
        this.maxResponseBytes = maxResponseBytes;
        this.authorization = apiKey == null ? null : "Bearer " + apiKey;
    }

    /**
     * What a request is. {@code repeatable}: safe to send again (a GET, or a POST with an idempotency key);
     * {@code retryUntil}: the {@link System#nanoTime()} after which no new try starts (null: as the policy says).
     */
    record Call(String method, String path, JsonNode body, String idempotencyKey, boolean repeatable,
            Duration extraTime, Long retryUntil) {

        static Call get(String path) {
            return new Call("GET", path, null, null, true, Duration.ZERO, null);
        }

        static Call post(String path, JsonNode body, boolean repeatable) {
            return new Call("POST", path, body, null, repeatable, Duration.ZERO, null);
        }

        /**
         * Whether another try may start after {@code wait}: the call is repeatable, and its time not up by then (a
         * pause that ends past it would keep the caller longer than it gave, for an answer it no longer waits for).
         */
        boolean mayRetryAfter(Duration wait) {
            return repeatable
                    && (retryUntil == null || Duration.ofNanos(retryUntil - System.nanoTime()).compareTo(wait) > 0);
        }
    }

    /** Ends the calls in flight (with the HTTP client, closed by the caller) and refuses new ones. */
    void close() {
        closed = true;
    }

    /**
     * The body of a successful (2xx) answer, as JSON read by {@code reader}, which throws
     * {@link IllegalArgumentException} (or Jackson's exceptions) for JSON that is not what the api answers.
     */
    <T> T send(Call call, Function<JsonNode, T> reader) {
        return send(() -> call, reader);
    }

    /** The body of a successful (2xx) answer, as JSON. */
    JsonNode send(Call call) {
        return send(() -> call);
    }

    /**
     * The same for a call made anew for each try: a long-poll's wait is what is left of its caller's time when the
     * try starts, not what was left at the first.
     */
    <T> T send(Supplier<Call> calls, Function<JsonNode, T> reader) {
        var json = send(calls);
        var call = calls.get();
        try {
            return reader.apply(json);
        } catch (JacksonException | IllegalArgumentException e) {
            throw new ConveyorException(call.method() + " " + call.path() + " answered JSON that is not what the api "
                    + "answers: " + e.getMessage(), e);
        }
    }

    private JsonNode send(Supplier<Call> calls) {
        for (var attempt = 1; ; attempt++) {
            var call = calls.get();
            var request = request(call);
            if (closed) {
                throw new ConveyorException(call.method() + " " + call.path() + " not sent: the client is closed",
                        null);
            }
            HttpResponse<byte[]> response;
            try {
                response = exchange(request, timeout.plus(call.extraTime()));
            } catch (TooLarge e) {
                throw new ConveyorException(call.method() + " " + call.path() + " answered more than "
                        + maxResponseBytes + " bytes: raise ConveyorClient.Builder.maxResponseBytes (or ask for "
                        + "smaller pages, JobQuery.pageSize)", e);
            } catch (IOException e) {
                var backoff = retry.backoff(attempt + 1);
                if (!call.mayRetryAfter(backoff) || attempt >= retry.maxAttempts() || closed) {
                    throw new ConveyorException(call.method() + " " + call.path() + " got no answer"
                            + (attempt > 1 ? " in " + attempt + " tries" : "") + ": " + e, e);
                }
                pause(backoff);
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ConveyorException("interrupted while waiting for " + call.path(), e);
            }
            var status = response.statusCode();
            if ((status == 503 || status == 429) && attempt < retry.maxAttempts()) {
                var next = attempt + 1;
                var wait = retryAfter(response.headers()).orElseGet(() -> retry.backoff(next));
                if (wait.compareTo(retry.maxDelay()) <= 0 && call.mayRetryAfter(wait)) {
                    pause(wait);
                    continue;
                }
            }
            if (status == 401 && authorization == null) {
                throw new ProblemException(problem(response), "this client sends no API key: set one with "
                        + "ConveyorClient.Builder.apiKey");
            }
            if (status >= 300 || status < 200) {
                throw new ProblemException(problem(response), redirect(response));
            }
            if (response.body().length == 0) {
                throw new ConveyorException(call.method() + " " + call.path() + " answered " + status
                        + " without a body", null);
            }
            return read(response.body(), call);
        }
    }

    /**
     * Sends the request and reads the answer, all of it within {@code limit}: the JDK's request timeout ends with the
     * answer's headers, and a body sent a byte now and then (a proxy's, a hostile server's) would hold the caller for
     * ever. An interrupt or the limit abandons the exchange.
     */
    private HttpResponse<byte[]> exchange(HttpRequest request, Duration limit) throws IOException,
            InterruptedException {
        var answer = http.sendAsync(request, info -> new Capped(maxResponseBytes));
        try {
            return answer.get(limit.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            answer.cancel(true);
            throw new HttpTimeoutException("no whole answer within " + limit);
        } catch (InterruptedException e) {
            answer.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            for (var cause = e.getCause(); cause != null; cause = cause.getCause()) {
                if (cause instanceof TooLarge tooLarge) {
                    throw tooLarge;
                }
            }
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        }
    }

    /** For a redirect: a note that the client follows none, with where it was sent. */
    private static String redirect(HttpResponse<byte[]> response) {
        var status = response.statusCode();
        if (status < 300 || status >= 400) {
            return null;
        }
        var location = response.headers().firstValue("Location").orElse("");
        return "redirected" + (location.isEmpty() ? "" : " to " + (location.length() > 200 ? location.substring(0,
                200) + "..." : location)) + ", which this client does not follow: give it the api's own address";
    }

    /** A body longer than the client takes. */
    static final class TooLarge extends IOException {

        TooLarge(long max) {
            super("the answer's body is longer than " + max + " bytes");
        }
    }

    /** Reads a body into memory up to {@code max} bytes; a longer one fails with {@link TooLarge}, read no further. */
    private static final class Capped implements HttpResponse.BodySubscriber<byte[]> {

        private final HttpResponse.BodySubscriber<byte[]> bytes = HttpResponse.BodySubscribers.ofByteArray();
        private final long max;
        private Flow.Subscription subscription;
        private long received;
        private boolean refused;

        Capped(long max) {
            this.max = max;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            this.subscription = subscription;
            bytes.onSubscribe(subscription);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (refused) {
                return;
            }
            for (var item : items) {
                received += item.remaining();
            }
            if (received > max) {
                refused = true;
                subscription.cancel();
                bytes.onError(new TooLarge(max));
                return;
            }
            bytes.onNext(items);
        }

        @Override
        public void onError(Throwable failure) {
            if (!refused) {
                bytes.onError(failure);
            }
        }

        @Override
        public void onComplete() {
            if (!refused) {
                bytes.onComplete();
            }
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return bytes.getBody();
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

    /**
     * {@code Retry-After} in seconds or as an HTTP date; absent, unreadable or negative: none. Digits past what a
     * long holds ask for longer than any {@code maxDelay}.
     */
    static Optional<Duration> retryAfter(HttpHeaders headers) {
        var value = headers.firstValue("Retry-After").map(String::trim).orElse(null);
        if (value == null) {
            return Optional.empty();
        }
        if (value.length() > 18 && value.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return Optional.of(Duration.ofSeconds(Long.MAX_VALUE)); // more seconds than a long holds: too long
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

    static void pause(Duration wait) {
        try {
            Thread.sleep(wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConveyorException("interrupted while waiting to retry", e);
        }
    }
}
