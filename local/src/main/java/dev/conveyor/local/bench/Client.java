package dev.conveyor.local.bench;

import dev.conveyor.common.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import tools.jackson.databind.JsonNode;

/**
 * The benchmark's HTTP client of the api: HTTP/1.1 keep-alive connections (one per concurrent request, reused), on
 * virtual threads. A 503 or a dropped connection is counted and tried again; any other answer that is not 2xx fails
 * loudly.
 */
final class Client implements AutoCloseable {

    static final String QUEUE = "default";
    private static final Set<String> TERMINAL = Set.of("SUCCEEDED", "FAILED", "CANCELLED");
    private static final int LIST_PAGE = 500;
    private static final int MAX_TRIES = 10;
    /** 429s a request may get (each followed by its Retry-After, at most 5 s) before the run fails. */
    private static final int MAX_LIMITED_TRIES = 120;

    private final AtomicLong unavailable = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong limited = new AtomicLong();

    static {
        // Below the api's keep-alive timeout, so that the client does not send on connections the server is closing.
        // Read once, when the JDK's first HttpClient is built: the benchmark builds this one first.
        System.setProperty("jdk.httpclient.keepalive.timeout", "5");
    }

    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .executor(Executors.newVirtualThreadPerTaskExecutor())
            .build();

    /** Jobs counted by status in the bench's queue, from {@code GET /v1/queues}. */
    record Counts(long succeeded, long failed, long cancelled) {

        long ended() {
            return succeeded + failed + cancelled;
        }
    }

    /** {@code POST /v1/jobs/batch}: answers the ids in order. */
    List<String> submitBatch(URI api, List<String> jobs) {
        var answer = post(api, "/v1/jobs/batch", "{\"jobs\":[" + String.join(",", jobs) + "]}");
        var ids = new ArrayList<String>(jobs.size());
        answer.get("jobs").forEach(job -> ids.add(job.get("id").asString()));
        return ids;
    }

    /** {@code POST /v1/jobs}: answers the id. */
    String submit(URI api, String job) {
        return post(api, "/v1/jobs", job).get("id").asString();
    }

    /** Long-polls {@code GET /v1/jobs/{id}?wait=30} until the job has ended; answers it. */
    JsonNode awaitEnd(URI api, String id) {
        while (true) {
            var job = get(api, "/v1/jobs/" + id + "?wait=30");
            if (TERMINAL.contains(job.get("status").asString())) {
                return job;
            }
        }
    }

    Counts counts(URI api) {
        for (var queue : get(api, "/v1/queues").get("queues")) {
            if (queue.get("name").asString().equals(QUEUE)) {
                return new Counts(queue.get("succeeded").asLong(), queue.get("failed").asLong(),
                        queue.get("cancelled").asLong());
            }
        }
        return new Counts(0, 0, 0);
    }

    /** Jobs in flight on all workers together, from {@code GET /v1/workers}. */
    int inFlight(URI api) {
        var total = 0;
        for (var worker : get(api, "/v1/workers").get("workers")) {
            total += worker.get("inFlight").asInt();
        }
        return total;
    }

    /**
     * The jobs with these ids, read newest first with {@code GET /v1/jobs} (a page of 500 at a time), which is cheap
     * when they are the newest jobs of the queue; fails when some cannot be found.
     */
    Map<String, JsonNode> newest(URI api, Set<String> ids) {
        var found = new HashMap<String, JsonNode>(ids.size() * 2);
        String after = null;
        do {
            var path = "/v1/jobs?queue=" + QUEUE + "&limit=" + LIST_PAGE
                    + (after == null ? "" : "&after=" + URLEncoder.encode(after, StandardCharsets.UTF_8));
            var page = get(api, path);
            for (var job : page.get("jobs")) {
                var id = job.get("id").asString();
                if (ids.contains(id)) {
                    found.put(id, job);
                }
            }
            var next = page.get("next");
            after = next == null || next.isNull() ? null : next.asString();
        } while (found.size() < ids.size() && after != null);
        if (found.size() < ids.size()) {
            throw new IllegalStateException("only " + found.size() + " of " + ids.size() + " jobs are listed");
        }
        return found;
    }

    /** The moment a job's outcome was recorded ({@code updatedAt} of an ended job). */
    static Instant ended(JsonNode job) {
        return Instant.parse(job.get("updatedAt").asString());
    }

    private JsonNode post(URI api, String path, String body) {
        return send(HttpRequest.newBuilder(api.resolve(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    private JsonNode get(URI api, String path) {
        return send(HttpRequest.newBuilder(api.resolve(path)).GET().build());
    }

    /** How many answers were 503 (and the request sent again) so far. */
    long unavailable() {
        return unavailable.get();
    }

    /** How many answers were 429 (a limit of the key: sent again after its Retry-After) so far. */
    long limited() {
        return limited.get();
    }

    /** How many requests failed on their connection (and were sent again) so far. */
    long dropped() {
        return dropped.get();
    }

    /**
     * Sends the request; a 503 (the job store was unavailable: nothing was stored, try again, says the contract) is
     * counted and sent again after a pause, up to {@link #MAX_TRIES} times, and so is a 429 (a limit of the key, say
     * 1,000 long-polls open at once, which an overloaded system reaches in W3), after its {@code Retry-After}.
     */
    private JsonNode send(HttpRequest request) {
        try {
            var overLimit = 0;
            for (var attempt = 1; ; attempt++) {
                HttpResponse<String> response;
                try {
                    response = http.send(request, HttpResponse.BodyHandlers.ofString());
                } catch (IOException e) {
                    // Most often a keep-alive connection that the server closed as the request went out: nothing
                    // reached the api. (Should one have, a W1 or W3 job runs twice; the run still counts its own.)
                    // A connect that timed out sent nothing either (an overloaded api's accept queue is full).
                    if (attempt < MAX_TRIES && (!(e instanceof HttpTimeoutException)
                            || e instanceof HttpConnectTimeoutException)) {
                        dropped.incrementAndGet();
                        continue;
                    }
                    throw e;
                }
                if (response.statusCode() == 503 && attempt < MAX_TRIES) {
                    unavailable.incrementAndGet();
                    Thread.sleep(Duration.ofMillis(100L * attempt));
                    continue;
                }
                if (response.statusCode() == 429 && ++overLimit < MAX_LIMITED_TRIES) {
                    // not one of the MAX_TRIES: an overloaded W3 keeps a key at its long-poll limit for a while
                    attempt--;
                    limited.incrementAndGet();
                    Thread.sleep(retryAfter(response));
                    continue;
                }
                if (response.statusCode() / 100 != 2) {
                    throw new IllegalStateException(request.method() + " " + request.uri() + " answered "
                            + response.statusCode() + ": " + response.body());
                }
                return Json.tree(response.body());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(request.method() + " " + request.uri() + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** The pause a 429 asks for: its Retry-After in seconds, between 0.1 and 5 s (1 s when it names none). */
    private static Duration retryAfter(HttpResponse<?> response) {
        var seconds = response.headers().firstValue("Retry-After").map(value -> {
            try {
                return Long.parseLong(value.trim());
            } catch (NumberFormatException e) {
                return 1L;
            }
        }).orElse(1L);
        return Duration.ofMillis(Math.clamp(seconds * 1000, 100, 5000));
    }

    @Override
    public void close() {
        http.close();
    }
}
