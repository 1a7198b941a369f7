package dev.conveyor.local.bench;

import java.io.PrintStream;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;

/**
 * A burst: everything is submitted as fast as the submission goes, then the run waits until the queue has counted
 * that many more ended jobs (polling {@code GET /v1/queues}), reads them back and checks that each SUCCEEDED. Latency
 * and the end of the run come from each job's {@code updatedAt}: the api's record of its outcome, on this machine's
 * clock.
 */
final class Burst {

    /** With no job ending for this long, a run has stalled and fails. */
    private static final Duration STALL = Duration.ofSeconds(60);
    private static final long POLL_MS = 100;

    /** A job submitted, and when the request that submitted it was sent. */
    record Submitted(String id, Instant at) {
    }

    /** Submits the burst's jobs; answers them all. */
    @FunctionalInterface
    interface Submission {
        List<Submitted> submit() throws InterruptedException;
    }

    private final Client client;
    private final URI api;
    private final List<Role> roles;
    private final PrintStream timelines;

    /** With {@code timelines}, each run prints its {@link Timeline} there; null for none. */
    Burst(Client client, URI api, List<Role> roles, PrintStream timelines) {
        this.client = client;
        this.api = api;
        this.roles = List.copyOf(roles);
        this.timelines = timelines;
    }

    /** Runs {@code jobs} jobs; with {@code inFlight}, also records the most jobs in flight on the workers. */
    RunResult run(int jobs, Submission submission, AtomicInteger inFlight) {
        var before = client.counts(api);
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
        var ended = client.newest(api, submitted.stream().map(Submitted::id).collect(Collectors.toSet()));
        checkSucceeded(ended.values());
        var latencies = new double[submitted.size()];
        var last = first;
        for (var i = 0; i < latencies.length; i++) {
            var job = submitted.get(i);
            var end = Client.ended(ended.get(job.id()));
            last = end.isAfter(last) ? end : last;
            latencies[i] = Math.max(0, Duration.between(job.at(), end).toNanos() / 1e6);
        }
        if (timelines != null) {
            timelines.print(Timeline.of(first, last, ended.values()).render());
        }
        return new RunResult(jobs, Duration.between(first, last).toNanos() / 1e9, Stats.Latencies.of(latencies), usage,
                "");
    }

    private void awaitEnded(long target) throws InterruptedException {
        var lastProgress = System.nanoTime();
        var seen = -1L;
        while (true) {
            var counts = client.counts(api);
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
                most.accumulateAndGet(client.inFlight(api), Math::max);
                TimeUnit.MILLISECONDS.sleep(500);
            }
        } catch (InterruptedException | RuntimeException e) {
            // the run is over (an interrupted request fails as an exception of its own)
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
}
