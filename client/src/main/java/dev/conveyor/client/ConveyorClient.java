package dev.conveyor.client;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.UUID;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import tools.jackson.databind.JsonNode;

/**
 * A client of the Conveyor HTTP api (docs/api.md), on the JDK's HTTP client. Thread-safe; make one per api and
 * share it.
 *
 * <p>Retries: a request that gets 503 or 429, or no answer at all, is sent again as {@link RetryPolicy} says, but
 * only when repeating it cannot do anything twice: GETs, and submits. A submit without an idempotency key gets one
 * made up by the client ({@code conveyor-client-<uuid>}, shown in the job's {@code idempotencyKey}), so that sending
 * it again answers the job the first try may have made instead of making a second one; turn that off with
 * {@link Builder#generateIdempotencyKeys(boolean)}, and submits without a key are then not retried. Cancel and retry
 * are never sent again. Refusals throw {@link ProblemException} with the api's problem document.
 *
 * <p>An api with API keys configured needs one: {@link Builder#apiKey(String)}. Without a valid key every call throws
 * a {@link ProblemException} with status 401; with a key that lacks the scope a call needs, status 403. Neither is
 * sent again. The key is sent only in the {@code Authorization} header, never shown in messages.
 */
public final class ConveyorClient implements AutoCloseable {

    private static final int MAX_WAIT_SECONDS = 60;
    /** The problem of a long-poll refused for want of room, on the instance or for the key. */
    private static final String TOO_MANY_LONG_POLLS = "https://conveyor.dev/problems/too-many-long-polls";
    /** Fewest time between two long-polls of one {@link #await}, should the api answer a job early and not ended. */
    private static final Duration MIN_POLL_GAP = Duration.ofSeconds(1);

    /** The default of {@link Builder#maxResponseBytes(long)}. */
    public static final long DEFAULT_MAX_RESPONSE_BYTES = 64L << 20;
    /** The longest {@link #await} waits: beyond a century a timeout means for ever. */
    private static final Duration FOREVER = Duration.ofDays(36_500);

    private final Transport transport;
    private final HttpClient http;
    private final boolean ownsHttp;
    private final boolean generateKeys;

    private ConveyorClient(Builder builder) {
        this.ownsHttp = builder.http == null;
        this.http = ownsHttp ? HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build() : builder.http;
        this.transport = new Transport(http, builder.base, builder.retry, builder.timeout, builder.maxResponseBytes,
                builder.apiKey);
        this.generateKeys = builder.generateKeys;
    }

    /** A client with the defaults, for the api at {@code base} (such as {@code http://localhost:8080}). */
    public static ConveyorClient create(String base) {
        return builder(URI.create(base)).build();
    }

    public static Builder builder(URI base) {
        return new Builder(base);
    }

    /** Submits a job ({@code POST /v1/jobs}); answers the new job, or the earlier one of the same idempotency key. */
    public Job submit(JobRequest request) {
        var key = key(request);
        return transport.send(Transport.Call.post("/v1/jobs", request.toJson(key), key != null),
                ConveyorClient::job);
    }

    /** Submits 1 to 1000 jobs at once, all or none ({@code POST /v1/jobs/batch}); answers them in order. */
    public List<Job> submitAll(List<JobRequest> requests) {
        var body = ClientJson.MAPPER.createObjectNode();
        var items = body.putArray("jobs");
        var repeatable = true;
        for (var request : requests) {
            var key = key(request);
            repeatable &= key != null;
            items.add(request.toJson(key));
        }
        return transport.send(Transport.Call.post("/v1/jobs/batch", body, repeatable), answer -> {
            var jobs = jobs(answer);
            if (jobs.size() != requests.size()) {
                throw new IllegalArgumentException(jobs.size() + " jobs for " + requests.size() + " requests");
            }
            return jobs;
        });
    }

    /** The job as it stands ({@code GET /v1/jobs/{id}}); a {@link ProblemException} with status 404 if none. */
    public Job get(UUID id) {
        return transport.send(Transport.Call.get("/v1/jobs/" + id), ConveyorClient::job);
    }

    /**
     * Waits until the job ends or {@code timeout} passes, with long-polls of up to 60 s each (no polling in
     * between), and answers the job as it then stands: check {@link Job#isTerminal()}. An api that refuses the
     * long-poll for want of room ({@code 429 too-many-long-polls}, once the {@link RetryPolicy}'s tries are spent) is
     * asked for the job without a wait instead, and long-polled again after that: while the api has no room, the job
     * is read every few seconds (the retries' pauses), and the api's long-poll cap is not taken for a failure.
     */
    public Job await(UUID id, Duration timeout) {
        // a timeout of centuries is as good as for ever (and has more nanoseconds than a long holds)
        var deadline = System.nanoTime() + (timeout.isNegative() ? 0 : timeout.compareTo(FOREVER) > 0
                ? FOREVER.toNanos() : timeout.toNanos());
        while (true) {
            var sent = System.nanoTime();
            Job job;
            try {
                // made anew for each try: one sent again after a 503 asks for what is left of the time, not all of it
                job = transport.send(() -> longPoll(id, deadline), ConveyorClient::job);
            } catch (ProblemException e) {
                if (e.status() != 429 || !TOO_MANY_LONG_POLLS.equals(e.problem().type())) {
                    throw e;
                }
                job = get(id);
            }
            var now = System.nanoTime();
            if (job.isTerminal() || deadline - now <= 0) {
                return job;
            }
            // an answer before its wait ran out, job not ended (a proxy that drops wait, an api stopping): not again
            // at once, lest a server that ignores wait get a request after another for as long as the timeout
            var gap = MIN_POLL_GAP.toNanos() - (now - sent);
            if (gap > 0) {
                Transport.pause(Duration.ofNanos(Math.min(gap, deadline - now)));
            }
        }
    }

    /** A long-poll for what is left until {@code deadline}; no try of it starts after the deadline. */
    private static Transport.Call longPoll(UUID id, long deadline) {
        var left = Math.max(0, deadline - System.nanoTime());
        var wait = Math.min(MAX_WAIT_SECONDS, left / 1e9);
        // tries after the deadline would keep the caller past the time it gave, for an answer it no longer waits for
        return new Transport.Call("GET", "/v1/jobs/" + id + "?wait=" + String.format(Locale.ROOT, "%.3f", wait), null,
                null, true, Duration.ofMillis((long) (wait * 1000)), deadline);
    }

    /** One page of jobs, newest first; {@code after} is the {@code next} of the previous page, or null for the first. */
    public JobPage page(JobQuery query, String after) {
        var path = new StringBuilder("/v1/jobs?limit=").append(query.pageSize());
        parameter(path, "status", query.status() == null ? null : query.status().name());
        parameter(path, "queue", query.queue());
        parameter(path, "type", query.type());
        parameter(path, "after", after);
        return transport.send(Transport.Call.get(path.toString()), answer -> {
            var jobs = jobs(answer);
            var next = answer.get("next");
            if (next != null && !next.isNull() && !next.isString()) {
                throw new IllegalArgumentException("next is neither a cursor nor null");
            }
            // the api names a next page only when this one is full: empty pages, each with a new cursor, would keep
            // list() fetching for ever without handing its caller a job
            if (jobs.isEmpty() && next != null && !next.isNull()) {
                throw new IllegalArgumentException("an empty page names a next one");
            }
            return new JobPage(jobs, next == null || next.isNull() ? null : next.asString());
        });
    }

    /** Every job the query matches, newest first, fetched a page at a time as the stream is read. */
    public Stream<Job> list(JobQuery query) {
        var pages = new Iterator<Job>() {
            private Iterator<Job> page = List.<Job>of().iterator();
            private String next;
            private boolean last;

            @Override
            public boolean hasNext() {
                while (!page.hasNext() && !last) {
                    var fetched = page(query, next);
                    if (next != null && next.equals(fetched.next())) {
                        // the same page again and again, for ever
                        throw new ConveyorException("GET /v1/jobs answered the cursor it was asked for, '"
                                + (next.length() > 100 ? next.substring(0, 100) + "..." : next)
                                + "', as the next one", null);
                    }
                    page = fetched.jobs().iterator();
                    next = fetched.next();
                    last = next == null;
                }
                return page.hasNext();
            }

            @Override
            public Job next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return page.next();
            }
        };
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(pages,
                Spliterator.ORDERED | Spliterator.NONNULL), false);
    }

    /** Cancels the job ({@code POST /v1/jobs/{id}/cancel}); 409 if it already ended. Not retried. */
    public Job cancel(UUID id) {
        return transport.send(Transport.Call.post("/v1/jobs/" + id + "/cancel", null, false), ConveyorClient::job);
    }

    /** Runs a FAILED or CANCELLED job again ({@code POST /v1/jobs/{id}/retry}); 409 otherwise. Not retried. */
    public Job retry(UUID id) {
        return transport.send(Transport.Call.post("/v1/jobs/" + id + "/retry", null, false), ConveyorClient::job);
    }

    /**
     * Closes the HTTP client, if this client made it, ending the calls in flight (a long-poll's too) with a
     * {@link ConveyorException}; later calls throw one at once.
     */
    @Override
    public void close() {
        transport.close();
        if (ownsHttp) {
            http.shutdownNow(); // close() alone waits for every exchange in flight: a long-poll's minute and more
            http.close();
        }
    }

    private String key(JobRequest request) {
        if (request.idempotencyKey() != null) {
            return request.idempotencyKey();
        }
        return generateKeys ? "conveyor-client-" + UUID.randomUUID() : null;
    }

    /** A Job as the api answers it; anything else is an {@link IllegalArgumentException} (or Jackson's). */
    private static Job job(JsonNode json) {
        if (!json.isObject()) {
            throw new IllegalArgumentException("a job must be a JSON object");
        }
        var job = ClientJson.MAPPER.treeToValue(json, Job.class);
        if (job.id() == null || job.status() == null) {
            throw new IllegalArgumentException("a job without id or status");
        }
        return job;
    }

    private static List<Job> jobs(JsonNode answer) {
        var items = answer.isObject() ? answer.get("jobs") : null;
        if (items == null || !items.isArray()) {
            throw new IllegalArgumentException("no array of jobs");
        }
        var jobs = new ArrayList<Job>(items.size());
        items.forEach(job -> jobs.add(job(job)));
        return jobs;
    }

    private static void parameter(StringBuilder path, String name, String value) {
        if (value != null) {
            path.append('&').append(name).append('=').append(URLEncoder.encode(value, StandardCharsets.UTF_8));
        }
    }

    /** Settings of a {@link ConveyorClient}. */
    public static final class Builder {

        private final URI base;
        private HttpClient http;
        private RetryPolicy retry = RetryPolicy.DEFAULT;
        private Duration timeout = Duration.ofSeconds(30);
        private long maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES;
        private boolean generateKeys = true;
        private String apiKey;

        private Builder(URI base) {
            this.base = Objects.requireNonNull(base, "base");
        }

        /** The JDK HTTP client to use (the caller closes it); by default the client makes its own. */
        public Builder httpClient(HttpClient http) {
            this.http = http;
            return this;
        }

        public Builder retryPolicy(RetryPolicy retry) {
            this.retry = Objects.requireNonNull(retry, "retry");
            return this;
        }

        /**
         * How long one request may take, its answer read to the end, beyond the time a long-poll asks the api to
         * wait (default 30 s); more than 0, at most a day.
         */
        public Builder requestTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (!timeout.isPositive() || timeout.compareTo(Duration.ofDays(1)) > 0) {
                throw new IllegalArgumentException("requestTimeout must be more than 0 and at most a day, not "
                        + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /**
         * The longest answer the client reads (default 64 MiB, the api's largest batch body); a longer one fails the
         * call, read no further, and is not sent again. A page of many large jobs may need more, or a smaller
         * {@link JobQuery#pageSize(int)}.
         */
        public Builder maxResponseBytes(long maxResponseBytes) {
            if (maxResponseBytes < 1) {
                throw new IllegalArgumentException("maxResponseBytes must be at least 1, not " + maxResponseBytes);
            }
            this.maxResponseBytes = maxResponseBytes;
            return this;
        }

        /** Whether submits without an idempotency key get one made up, so that they can be retried (default yes). */
        public Builder generateIdempotencyKeys(boolean generate) {
            this.generateKeys = generate;
            return this;
        }

        /**
         * The API key to send on every request ({@code Authorization: Bearer <key>}), for an api with keys configured;
         * none by default (an api without keys needs none). A key with {@code jobs:write} and {@code jobs:read} can
         * do everything this client does with its tenant's jobs.
         */
        public Builder apiKey(String apiKey) {
            Objects.requireNonNull(apiKey, "apiKey");
            // no key text in the message: it may be a real key with one wrong character
            if (apiKey.isEmpty() || !apiKey.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                throw new IllegalArgumentException("apiKey must be printable ASCII without spaces (as cvk_... keys "
                        + "are)");
            }
            this.apiKey = apiKey;
            return this;
        }

        public ConveyorClient build() {
            return new ConveyorClient(this);
        }
    }
}
