package dev.conveyor.local.bench;

import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Runs the workloads against one system: W1, W2 and W4 as a {@link Burst}, W3 paced. Every job must end SUCCEEDED
 * (the run fails loudly otherwise); jobs get one attempt, so a failure shows at once instead of as a retry.
 */
final class Runs {

    private final Client client;
    private final List<URI> apis;
    private final List<Role> roles;
    private final BenchOptions options;
    private final DelayServer server;
    private final Burst warmUpBurst;
    /** The measured runs' bursts: with {@code --timeline}, each prints where its jobs were over time. */
    private final Burst measuredBurst;

    Runs(Client client, List<URI> apis, List<Role> roles, BenchOptions options, DelayServer server) {
        this.client = client;
        this.apis = List.copyOf(apis);
        this.roles = List.copyOf(roles);
        this.options = options;
        this.server = server;
        this.warmUpBurst = new Burst(client, this.apis.getFirst(), roles, null);
        this.measuredBurst = new Burst(client, this.apis.getFirst(), roles, options.timeline() ? System.out : null);
    }

    /** Sends {@code jobs} jobs through the workload's own path and waits for them, measuring nothing. */
    void warmUp(Workload workload, int jobs) {
        if (jobs > 0) {
            run(workload, jobs, warmUpSleepMs(workload), warmUpBurst);
        }
    }

    /** One measured run of the workload at its configured size. */
    RunResult measure(Workload workload) {
        var jobs = switch (workload) {
            case W1_BATCH, W1_SINGLE -> options.w1Jobs();
            case W2 -> options.w2Jobs();
            case W3 -> options.w3Rate() * options.w3Seconds();
            case W4 -> options.w4Jobs();
            case FLOOR_W1, FLOOR_W1_SINGLE, FLOOR_W2, FLOOR_W3, FLOOR_W3_HTTP, PG_BATCHES, PG_SINGLE ->
                    throw notConveyors(workload);
        };
        return run(workload, jobs, options.w4SleepMs(), measuredBurst);
    }

    private static int warmUpSleepMs(Workload workload) {
        return workload == Workload.W4 ? 10 : 0;
    }

    private RunResult run(Workload workload, int jobs, int sleepMs, Burst burst) {
        var unavailable = client.unavailable();
        var dropped = client.dropped();
        var limited = client.limited();
        var result = runOnce(workload, jobs, sleepMs, burst);
        var refused = client.unavailable() - unavailable;
        var lost = client.dropped() - dropped;
        var overLimit = client.limited() - limited;
        if (refused == 0 && lost == 0 && overLimit == 0) {
            return result;
        }
        var note = "sent again: " + refused + " requests answered 503 (store unavailable), " + overLimit
                + " answered 429 (a limit of the key, after its Retry-After), " + lost + " whose connection failed";
        return result.withNote(result.note().isEmpty() ? note : result.note() + "; " + note);
    }

    private RunResult runOnce(Workload workload, int jobs, int sleepMs, Burst burst) {
        return switch (workload) {
            case W1_BATCH -> burst.run(jobs, () -> inBatches(jobs, Runs::echo), null);
            case W1_SINGLE -> burst.run(jobs, () -> singly(jobs, options.clients()), null);
            case W2 -> {
                server.reset();
                var result = burst.run(jobs, () -> inBatches(jobs, this::http), null);
                yield result.withNote(server.note());
            }
            case W3 -> paced(jobs, options.w3Rate());
            case W4 -> {
                var inFlight = new AtomicInteger();
                var result = burst.run(jobs, () -> inBatches(jobs, n -> sleep(sleepMs)), inFlight);
                yield result.withNote("at most " + inFlight.get() + " jobs in flight");
            }
            case FLOOR_W1, FLOOR_W1_SINGLE, FLOOR_W2, FLOOR_W3, FLOOR_W3_HTTP, PG_BATCHES, PG_SINGLE ->
                    throw notConveyors(workload);
        };
    }

    private static IllegalArgumentException notConveyors(Workload workload) {
        return new IllegalArgumentException(workload.title() + " runs without Conveyor (FloorRuns)");
    }

    private List<Burst.Submitted> inBatches(int jobs, IntFunction<String> job) throws InterruptedException {
        var submitted = Collections.synchronizedList(new ArrayList<Burst.Submitted>(jobs));
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
                        client.submitBatch(api, items).forEach(id -> submitted.add(new Burst.Submitted(id, at)));
                    }
                });
            }
        }
        return checked(submitted, jobs);
    }

    private List<Burst.Submitted> singly(int jobs, int clients) {
        var submitted = Collections.synchronizedList(new ArrayList<Burst.Submitted>(jobs));
        var next = new AtomicInteger();
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (var c = 0; c < clients; c++) {
                var api = apis.get(c % apis.size());
                threads.execute(() -> {
                    int n;
                    while ((n = next.getAndIncrement()) < jobs) {
                        var at = Instant.now();
                        submitted.add(new Burst.Submitted(client.submit(api, echo(n)), at));
                    }
                });
            }
        }
        return checked(submitted, jobs);
    }

    private static List<Burst.Submitted> checked(List<Burst.Submitted> submitted, int jobs) {
        if (submitted.size() != jobs) {
            throw new IllegalStateException("submitted " + submitted.size() + " of " + jobs + " jobs; see the errors above");
        }
        return submitted;
    }

    /**
     * W3: {@link PacedSubmits}, spread over the apis; latency counts from the planned submit time. The note splits
     * it: when the 202 came, when the outcome was recorded (the job's {@code updatedAt}, by the api's clock: on
     * another machine, the clocks' skew is in that figure) and when it was readable.
     */
    private RunResult paced(int jobs, int rate) {
        var meter = new Meter(roles);
        var outcome = PacedSubmits.run(client, n -> apis.get(n % apis.size()), Runs::echo, jobs, rate);
        var usage = meter.stop();
        outcome.checked("");
        return new RunResult(jobs, outcome.seconds(), Stats.Latencies.of(outcome.readable()), usage, outcome.split());
    }

    /** A W3 job: an echo of its number, one attempt. */
    static String echo(int n) {
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
