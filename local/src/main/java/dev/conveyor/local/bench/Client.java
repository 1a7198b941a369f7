package dev.conveyor.local.bench;

import dev.conveyor.common.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.entity.StringEntity;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;
import tools.jackson.databind.JsonNode;

/**
 * The benchmark's HTTP client of the api: HTTP/1.1 keep-alive connections (one per concurrent request, pooled and
 * reused), blocking calls on virtual threads. A 503 or a dropped connection is counted and tried again; any other
 * answer that is not 2xx fails loudly.
 *
 * <p>Apache HttpClient's classic (blocking) client, not the JDK's {@code java.net.http.HttpClient}: the client shares
 * the cores with the system it measures, and in W3 (two requests per job) the JDK's asynchronous client, its selector
 * thread and its hand-offs between threads cost more CPU per job than the api it was measuring.
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

    /** Below the api's keep-alive timeout, so that the client does not send on connections the server is closing. */
    private static final TimeValue KEEP_ALIVE = TimeValue.ofSeconds(5);
    /** W3's long-polls wait up to 30 s for an answer; a request unanswered for 2 minutes has failed. */
    private static final Timeout ANSWER_WITHIN = Timeout.ofMinutes(2);

    private final CloseableHttpClient http = HttpClients.custom()
            .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                    // one connection per request in flight: W3 holds up to a thousand long-polls at once
                    .setMaxConnTotal(10_000)
                    .setMaxConnPerRoute(10_000)
                    .setDefaultConnectionConfig(ConnectionConfig.custom()
                            .setConnectTimeout(Timeout.ofSeconds(10))
                            .setSocketTimeout(ANSWER_WITHIN)
                            .build())
                    .build())
            .setKeepAliveStrategy((response, context) -> KEEP_ALIVE)
            .evictIdleConnections(KEEP_ALIVE)
            // send() counts and repeats failed requests itself, so that the notes column shows them
            .disableAutomaticRetries()
            .disableCookieManagement()
            .disableAuthCaching()
            .disableRedirectHandling()
            .build();

    /** An answer: its status, body and {@code Retry-After}. */
    private record Answer(int status, String body, String retryAfter) {
    }

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
        var request = new HttpPost(api.resolve(path));
        request.setEntity(new StringEntity(body, ContentType.APPLICATION_JSON));
        return send(request);
    }

    private JsonNode get(URI api, String path) {
        return send(new HttpGet(api.resolve(path)));
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
    private JsonNode send(HttpUriRequestBase request) {
        try {
            var overLimit = 0;
            for (var attempt = 1; ; attempt++) {
                Answer answer;
                try {
                    answer = http.execute(request, response -> {
                        var retryAfter = response.getFirstHeader("Retry-After");
                        return new Answer(response.getCode(), response.getEntity() == null ? ""
                                : EntityUtils.toString(response.getEntity(), StandardCharsets.UTF_8),
                                retryAfter == null ? null : retryAfter.getValue());
                    });
                } catch (IOException e) {
                    // Most often a keep-alive connection that the server closed as the request went out: nothing
                    // reached the api. (Should one have, a W1 or W3 job runs twice; the run still counts its own.)
                    // A connect that timed out sent nothing either (an overloaded api's accept queue is full).
                    if (attempt < MAX_TRIES && (!(e instanceof SocketTimeoutException)
                            || e instanceof ConnectTimeoutException)) {
                        dropped.incrementAndGet();
                        continue;
                    }
                    throw e;
                }
                if (answer.status() == 503 && attempt < MAX_TRIES) {
                    unavailable.incrementAndGet();
                    Thread.sleep(Duration.ofMillis(100L * attempt));
                    continue;
                }
                if (answer.status() == 429 && ++overLimit < MAX_LIMITED_TRIES) {
                    // not one of the MAX_TRIES: an overloaded W3 keeps a key at its long-poll limit for a while
                    attempt--;
                    limited.incrementAndGet();
                    Thread.sleep(retryAfter(answer.retryAfter()));
                    continue;
                }
                if (answer.status() / 100 != 2) {
                    throw new IllegalStateException(request + " answered " + answer.status() + ": " + answer.body());
                }
                return Json.tree(answer.body());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(request + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** The pause a 429 asks for: its Retry-After in seconds, between 0.1 and 5 s (1 s when it names none). */
    static Duration retryAfter(String value) {
        var seconds = 1L;
        if (value != null) {
            try {
                seconds = Long.parseLong(value.trim());
            } catch (NumberFormatException e) {
                // an HTTP date or garbage: the default pause
            }
        }
        return Duration.ofMillis(Math.clamp(seconds * 1000, 100, 5000));
    }

    @Override
    public void close() {
        http.close(CloseMode.GRACEFUL);
    }
}
