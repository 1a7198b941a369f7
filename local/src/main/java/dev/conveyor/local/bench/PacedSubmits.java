package dev.conveyor.local.bench;

import java.net.URI;
import java.time.Instant;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * W3's client: one {@code POST /v1/jobs} every {@code 1/rate} seconds by the clock (open loop: a slow answer does not
 * delay the next submit), each followed by a long-poll {@code GET /v1/jobs/{id}?wait=30} until the job has ended.
 * Each job's times count from its planned submit. Used against Conveyor (W3) and against the floor's HTTP front
 * ({@code floor-w3-http}), so that both are sent the very same requests.
 */
final class PacedSubmits {

    /**
     * What a loop saw, per job in milliseconds from its planned submit: the 202, the outcome recorded (the job's
     * {@code updatedAt}, by the server's clock; NaN when the answer has none) and readable (the long-poll's answer).
     */
    record Outcome(long start, long lastEnd, double[] answered, double[] recorded, double[] readable, int failed,
            String failure) {

        /** Fails when any job did not end SUCCEEDED or a request failed. */
        Outcome checked(String what) {
            if (failed > 0) {
                throw new IllegalStateException(what + failed + " of " + readable.length
                        + " jobs did not succeed, e.g. " + failure);
            }
            return this;
        }

        double seconds() {
            return (lastEnd - start) / 1e9;
        }

        /** p50 / p99 of the 202 and of readable, with the outcome recorded between them when the answers carried it. */
        String split() {
            var answers = Stats.Latencies.of(answered);
            var readableAt = Stats.Latencies.of(readable);
            var at = "p50 / p99 ms from the planned submit: 202 " + Stats.number(answers.p50()) + " / "
                    + Stats.number(answers.p99());
            if (recorded.length > 0 && !Double.isNaN(recorded[0])) {
                var recordedAt = Stats.Latencies.of(recorded);
                at += ", outcome recorded " + Stats.number(recordedAt.p50()) + " / " + Stats.number(recordedAt.p99());
            }
            return at + ", readable " + Stats.number(readableAt.p50()) + " / " + Stats.number(readableAt.p99());
        }
    }

    private PacedSubmits() {
    }

    /** Sends job {@code n}, {@code job.apply(n)}, to {@code api.apply(n)}; returns once every job has been answered. */
    static Outcome run(Client client, IntFunction<URI> api, IntFunction<String> job, int jobs, int rate) {
        var answered = new double[jobs];
        var recorded = new double[jobs];
        var readable = new double[jobs];
        var failures = new ConcurrentLinkedQueue<String>();
        var lastEnd = new AtomicLong();
        var wallClock = WallClock.now();
        var start = OpenLoop.run(jobs, rate, (n, planned) -> () -> {
            try {
                var to = api.apply(n);
                var id = client.submit(to, job.apply(n));
                answered[n] = (System.nanoTime() - planned) / 1e6;
                var ended = client.awaitEnd(to, id);
                var end = System.nanoTime();
                lastEnd.accumulateAndGet(end, Math::max);
                readable[n] = (end - planned) / 1e6;
                var updatedAt = ended.get("updatedAt");
                recorded[n] = updatedAt == null ? Double.NaN
                        : wallClock.millisBetween(planned, Instant.parse(updatedAt.asString()));
                if (!ended.get("status").asString().equals("SUCCEEDED")) {
                    failures.add(ended.toString());
                }
            } catch (RuntimeException e) {
                failures.add(e.toString());
            }
        });
        return new Outcome(start, lastEnd.get(), answered, recorded, readable, failures.size(), failures.peek());
    }

    /**
     * Relates {@link System#nanoTime()}, which paces the loop, to the wall clock, which the api's {@code updatedAt}
     * is on.
     */
    record WallClock(long epochNanosAtZero) {

        static WallClock now() {
            var wall = Instant.now();
            var nanos = System.nanoTime();
            return new WallClock(wall.getEpochSecond() * 1_000_000_000L + wall.getNano() - nanos);
        }

        /** Milliseconds from {@code nanoTime} (on {@link System#nanoTime()}'s clock) to the instant. */
        double millisBetween(long nanoTime, Instant instant) {
            var instantNanos = instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
            return (instantNanos - (nanoTime + epochNanosAtZero)) / 1e6;
        }
    }
}
