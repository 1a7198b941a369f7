package dev.conveyor.local.bench;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;

/**
 * Runs the workloads against one system: submits, waits until every job has ended, checks that each SUCCEEDED
 * (failing loudly otherwise) and measures. Jobs get one attempt, so a failure shows at once instead of as a retry.
 */
final class Runs {

    /** With no job ending for this long, a run has stalled and fails. */
    private static final Duration STALL = Duration.ofSeconds(60);
    private static final long POLL_MS = 100;

    private final Client client;
    private final List<URI> apis;
    private final List<Role> roles;
    private final BenchOptions options;
    private final DelayServer server;

    Runs(Client client, List<URI> apis, List<Role> roles, BenchOptions options, DelayServer server) {
        this.client = client;
        this.apis = List.copyOf(apis);
        this.roles = List.copyOf(roles);
        this.options = options;
        this.server = server;
    }

    /** Sends {@code jobs} jobs through the workload's own path and waits for them, measuring nothing. */
    void warmUp(Workload workload, int jobs) {
        if (jobs > 0) {
            run(workload, jobs, warmUpSleepMs(workload));
        }
    }

    /** One measured run of the workload at its configured size. */
    RunResult measure(Workload workload) {
        var jobs = switch (workload) {
            case W1_BATCH, W1_SINGLE -> options.w1Jobs();
            case W2 -> options.w2Jobs();
            case W3 -> options.w3Rate() * options.w3Seconds();
            case W4 -> options.w4Jobs();
        };
        return run(workload, jobs, options.w4SleepMs());
    }

    private static int warmUpSleepMs(Workload workload) {
        return workload == Workload.W4 ? 10 : 0;
    }

    private RunResult run(Workload workload, int jobs, int sleepMs) {
        var unavailable = client.unavailable();
        var result = runOnce(workload, jobs, sleepMs);
        var refused = client.unavailable() - unavailable;
        if (refused == 0) {
            return result;
        }
        var note = "the api answered 503 (store unavailable) " + refused + " times; sent again";
        return result.withNote(result.note().isEmpty() ? note : result.note() + "; " + note);
    }

    private RunResult runOnce(Workload workload, int jobs, int sleepMs) {
        return switch (workload) {
            case W1_BATCH -> burst(jobs, () -> inBatches(jobs, Runs::echo), null);
            case W1_SINGLE -> burst(jobs, () -> singly(jobs, options.clients()), null);
            case W2 -> {
                server.reset();
                var result = burst(jobs, () -> inBatches(jobs, this::http), null);
                yield result.withNote("HTTP server: at most " + server.mostAtOnce() + " requests at once on "
                        + server.connections() + " connections");
            }
            case W3 -> paced(jobs, options.w3Rate());
            case W4 -> {
                var inFlight = new AtomicInteger();
                var result = burst(jobs, () -> inBatches(jobs, n -> sleep(sleepMs)), inFlight);
                yield result.withNote("at most " + inFlight.get() + " jobs in flight");
            }
        };
    }

    /** A job submitted, and when its submit began. */
    private record Submitted(String id, Instant at) {
    }

    @FunctionalInterface
    private interface Submission {
        List<Submitted> submit() throws InterruptedException;
    }

    /**
     * Submits everything as fast as the submission goes, then waits until the queue has counted that many more
     * ended jobs; latency and the end of the run come from each job's {@code updatedAt} (the api's record of its
     * outcome, on this machine's clock).
     */
    private RunResult burst(int jobs, Submission submission, AtomicInteger inFlight) {
        var before = client.counts(apis.getFirst());
        var meter = new Meter(roles);
        var first = Instant.now();
        List<Submitted> submitted;
        Thread watcher = null;
        if (inFlight != null) {
            watcher = Thread.ofVirtual().start(() -> watchInFlight(inFlight));
        }
        try {
            submitted = submission.submit();
            awaitEnded(before.ended() + jobs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            if (watcher != null) {
                watcher.interrupt();
            }
        }
        var usage = meter.stop();
        var ended = client.newest(apis.getFirst(), submitted.stream().map(Submitted::id)
                .collect(Collectors.toSet()));
        checkSucceeded(ended.values());
        var latencies = new double[submitted.size()];
        var last = first;
        for (var i = 0; i < latencies.length; i++) {
            var job = submitted.get(i);
            var end = Client.ended(ended.get(job.id()));
            last = end.isAfter(last) ? end : last;
            latencies[i] = Math.max(0, Duration.between(job.at(), end).toNanos() / 1e6);
        }
        return new RunResult(jobs, Duration.between(first, last).toNanos() / 1e9, Stats.Latencies.of(latencies), usage, "");
    }

    private List<Submitted> inBatches(int jobs, IntFunction<String> job) throws InterruptedException {
        var submitted = Collections.synchronizedList(new ArrayList<Submitted>(jobs));
        var next = new AtomicInteger();
        // One submitting client per api instance, each sending its batches one after another.
        try (var clients = Executors.newVirtualThreadPerTaskExecutor()) {
            for (var api : apis) {
                clients.execute(() -> {
                    int from;
                    while ((from = next.getAndAdd(options.batchSize())) < jobs) {
                        var items = new ArrayList<String>();
                        for (var n = from; n < Math.min(jobs, from + options.batchSize()); n++) {
                            items.add(job.apply(n));
                        }
                        var at = Instant.now();
                        client.submitBatch(api, items).forEach(id -> submitted.add(new Submitted(id, at)));
                    }
                });
            }
        }
        return checked(submitted, jobs);
    }

    private List<Submitted> singly(int jobs, int clients) {
        var submitted = Collections.synchronizedList(new ArrayList<Submitted>(jobs));
        var next = new AtomicInteger();
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (var c = 0; c < clients; c++) {
                var api = apis.get(c % apis.size());
                threads.execute(() -> {
                    int n;
                    while ((n = next.getAndIncrement()) < jobs) {
                        var at = Instant.now();
                        submitted.add(new Submitted(client.submit(api, echo(n)), at));
                    }
                });
            }
        }
        return checked(submitted, jobs);
    }

    private static List<Submitted> checked(List<Submitted> submitted, int jobs) {
        if (submitted.size() != jobs) {
            throw new IllegalStateException("submitted " + submitted.size() + " of " + jobs + " jobs; see the errors above");
        }
        return submitted;
    }

    /**
     * W3: one {@code POST /v1/jobs} every {@code 1/rate} seconds by the clock (open loop: a slow answer does not delay
     * the next submit), each followed by a long-poll for its outcome; latency counts from the planned submit time.
     */
    private RunResult paced(int jobs, int rate) {
        var latencies = new double[jobs];
        var failures = new ConcurrentLinkedQueue<String>();
        var lastEnd = new AtomicLong();
        var period = TimeUnit.SECONDS.toNanos(1) / (double) rate;
        var meter = new Meter(roles);
        var start = System.nanoTime();
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (var i = 0; i < jobs; i++) {
                var planned = start + (long) (i * period);
                var wait = planned - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                var n = i;
                threads.execute(() -> {
                    try {
                        var api = apis.get(n % apis.size());
                        var job = client.awaitEnd(api, client.submit(api, echo(n)));
                        var end = System.nanoTime();
                        lastEnd.accumulateAndGet(end, Math::max);
                        latencies[n] = (end - planned) / 1e6;
                        if (!job.get("status").asString().equals("SUCCEEDED")) {
                            failures.add(job.toString());
                        }
                    } catch (RuntimeException e) {
                        failures.add(e.toString());
                    }
                });
            }
        }
        var usage = meter.stop();
        if (!failures.isEmpty()) {
            throw new IllegalStateException(failures.size() + " of " + jobs + " jobs did not succeed, e.g. "
                    + failures.peek());
        }
        return new RunResult(jobs, (lastEnd.get() - start) / 1e9, Stats.Latencies.of(latencies), usage, "");
    }

    private void awaitEnded(long target) throws InterruptedException {
        var lastProgress = System.nanoTime();
        var seen = -1L;
        while (true) {
            var counts = client.counts(apis.getFirst());
            if (counts.ended() >= target) {
                return;
            }
            if (counts.ended() != seen) {
                seen = counts.ended();
                lastProgress = System.nanoTime();
            } else if (System.nanoTime() - lastProgress > STALL.toNanos()) {
                throw new IllegalStateException("no job ended for " + STALL.toSeconds() + " s: " + (target - seen)
                        + " still to end (" + counts + ")");
            }
            TimeUnit.MILLISECONDS.sleep(POLL_MS);
        }
    }

    private void watchInFlight(AtomicInteger most) {
        try {
            while (true) {
                most.accumulateAndGet(client.inFlight(apis.getFirst()), Math::max);
                TimeUnit.MILLISECONDS.sleep(500);
            }
        } catch (InterruptedException | IllegalStateException e) {
            // the run is over
        }
    }

    private static void checkSucceeded(Collection<JsonNode> jobs) {
        var byStatus = new TreeMap<String, Integer>();
        JsonNode example = null;
        for (var job : jobs) {
            var status = job.get("status").asString();
            byStatus.merge(status, 1, Integer::sum);
            if (!status.equals("SUCCEEDED") && example == null) {
                example = job;
            }
        }
        if (example != null) {
            throw new IllegalStateException("not every job SUCCEEDED: " + byStatus + "; for example " + example);
        }
    }

    private static String echo(int n) {
        return "{\"type\":\"echo\",\"maxAttempts\":1,\"payload\":{\"n\":" + n + "}}";
    }

    private String http(int n) {
        return "{\"type\":\"http\",\"maxAttempts\":1,\"payload\":{\"url\":\"" + server.uri() + n + "\"}}";
    }

    private static String sleep(int ms) {
        return "{\"type\":\"sleep\",\"maxAttempts\":1,\"timeoutSeconds\":" + (ms / 1000 + 300)
                + ",\"payload\":{\"ms\":" + ms + "}}";
    }
}
