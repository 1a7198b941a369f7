package dev.conveyor.local.bench;

import dev.conveyor.common.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import tools.jackson.databind.JsonNode;

/**
 * Load against a running Conveyor (start one with {@code java -jar local/target/conveyor-local.jar}): submits
 * {@code echo} jobs singly (many clients at once) and in batches, waits until all have succeeded, and prints
 * submission rates, end-to-end throughput and job latencies (created → started → finished, from the api's own
 * timestamps), side by side in one run. Usage: {@code LoadTest [url] [jobs] [clients]}.
 */
public final class LoadTest {

    private final HttpClient client = HttpClient.newHttpClient();
    private final String url;

    private LoadTest(String url) {
        this.url = url;
    }

    public static void main(String[] args) throws Exception {
        var url = args.length > 0 ? args[0] : "http://localhost:8080";
        var jobs = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        var clients = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        var test = new LoadTest(url);
        test.warmUp();
        System.out.printf("Conveyor load test against %s: %,d echo jobs per phase, %d clients%n%n", url, jobs,
                clients);
        System.out.printf("%-34s %12s %12s %12s %14s %14s%n", "phase", "submit/s", "end-to-end/s",
                "start p50 ms", "finish p50 ms", "finish p99 ms");
        test.phase("single POSTs, " + clients + " clients", jobs, () -> test.submitSingly(jobs, clients));
        test.phase("batches of 500", jobs, () -> test.submitInBatches(jobs, 500));
        test.phase("single POSTs, 1 client (latency)", Math.min(jobs, 2_000),
                () -> test.submitSingly(Math.min(jobs, 2_000), 1));
    }

    private interface Submission {
        List<String> run() throws Exception;
    }

    private void phase(String name, int jobs, Submission submission) throws Exception {
        var start = System.nanoTime();
        var ids = submission.run();
        var submitted = System.nanoTime();
        var ended = awaitAll(ids);
        var done = System.nanoTime();
        var startLatency = new ArrayList<Long>();
        var finishLatency = new ArrayList<Long>();
        for (var job : ended) {
            var created = Instant.parse(job.get("createdAt").asString());
            startLatency.add(Duration.between(created, Instant.parse(job.get("startedAt").asString())).toMillis());
            finishLatency.add(Duration.between(created, Instant.parse(job.get("finishedAt").asString())).toMillis());
        }
        System.out.printf("%-34s %,12.0f %,12.0f %12d %14d %14d%n", name, jobs / seconds(submitted - start),
                jobs / seconds(done - start), percentile(startLatency, 50), percentile(finishLatency, 50),
                percentile(finishLatency, 99));
    }

    private List<String> submitSingly(int jobs, int clients) throws Exception {
        var ids = Collections.synchronizedList(new ArrayList<String>());
        var permits = new Semaphore(clients);
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (var i = 0; i < jobs; i++) {
                permits.acquire();
                var n = i;
                threads.execute(() -> {
                    try {
                        ids.add(post("/v1/jobs", job(n)).get("id").asString());
                    } finally {
                        permits.release();
                    }
                });
            }
        }
        return ids;
    }

    private List<String> submitInBatches(int jobs, int size) {
        var ids = new ArrayList<String>();
        for (var from = 0; from < jobs; from += size) {
            var items = new ArrayList<String>();
            for (var i = from; i < Math.min(jobs, from + size); i++) {
                items.add(job(i));
            }
            post("/v1/jobs/batch", "{\"jobs\": [" + String.join(",", items) + "]}").get("jobs")
                    .forEach(job -> ids.add(job.get("id").asString()));
        }
        return ids;
    }

    /** Waits for every job with long-polls from many virtual threads; answers the ended jobs. */
    private List<JsonNode> awaitAll(List<String> ids) throws Exception {
        var ended = Collections.synchronizedList(new ArrayList<JsonNode>());
        var permits = new Semaphore(256);
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (var id : ids) {
                permits.acquire();
                threads.execute(() -> {
                    try {
                        JsonNode job;
                        do {
                            job = get("/v1/jobs/" + id + "?wait=60");
                        } while (!job.get("status").asString().equals("SUCCEEDED"));
                        ended.add(job);
                    } finally {
                        permits.release();
                    }
                });
            }
        }
        Set<String> distinct = new HashSet<>(ids);
        if (distinct.size() != ids.size() || ended.size() != ids.size()) {
            throw new IllegalStateException("expected " + ids.size() + " distinct succeeded jobs, got " + ended.size());
        }
        return ended;
    }

    private void warmUp() throws Exception {
        awaitAll(submitSingly(200, 16));
    }

    private static String job(int n) {
        return "{\"type\": \"echo\", \"payload\": {\"n\": " + n + "}}";
    }

    private JsonNode post(String path, String body) {
        return send(HttpRequest.newBuilder(URI.create(url + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    private JsonNode get(String path) {
        return send(HttpRequest.newBuilder(URI.create(url + path)).GET().build());
    }

    private JsonNode send(HttpRequest request) {
        try {
            var response = client.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() >= 300) {
                throw new IllegalStateException(request.uri() + " answered " + response.statusCode() + ": "
                        + response.body());
            }
            return Json.tree(response.body());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }

    private static long percentile(List<Long> values, int p) {
        var sorted = values.stream().sorted().toList();
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }
}
