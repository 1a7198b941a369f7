package dev.conveyor.local.bench;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One run of the bare path: its jobs' ids, when each was submitted and when its end was committed (both
 * {@link System#nanoTime()}), and a wait for all of them. The ids are time-ordered like Conveyor's UUIDv7 ids, with
 * the job's number in their last bits, so that an ended id leads back to its job without a lookup.
 */
final class FloorRun {

    private static final AtomicInteger RUNS = new AtomicInteger();

    private final long high;
    private final URI call;
    private final long[] submitted;
    private final long[] ended;
    /** One per job when its end is awaited job by job (the floor's long-polls), else null. */
    private final CountDownLatch[] endings;
    private int endedCount;
    private Throwable failure;

    FloorRun(int jobs) {
        this(jobs, null);
    }

    /** @param call what each job GETs before its result is sent (W2's shape), or null for noop jobs */
    FloorRun(int jobs, URI call) {
        this(jobs, call, false);
    }

    /** A run of noop jobs whose ends can be awaited one by one ({@link #awaitEnd}), as the floor's long-polls do. */
    static FloorRun awaited(int jobs) {
        return new FloorRun(jobs, null, true);
    }

    private FloorRun(int jobs, URI call, boolean awaited) {
        this.call = call;
        // UUIDv7 layout: 48 bits of Unix milliseconds, version 7, 12 bits that tell the runs apart; variant 2 below.
        high = System.currentTimeMillis() << 16 | 0x7000 | (RUNS.incrementAndGet() & 0xfff);
        submitted = new long[jobs];
        ended = new long[jobs];
        if (awaited) {
            endings = new CountDownLatch[jobs];
            for (var i = 0; i < jobs; i++) {
                endings[i] = new CountDownLatch(1);
            }
        } else {
            endings = null;
        }
    }

    /** The URI each job GETs, or null when the jobs are noops. */
    URI call() {
        return call;
    }

    int jobs() {
        return submitted.length;
    }

    UUID id(int job) {
        return new UUID(high, 0x8000_0000_0000_0000L | job);
    }

    /** The payload of a job, as the benchmark's echo jobs carry it. */
    static String payload(int job) {
        return "{\"n\":" + job + "}";
    }

    /** The job an id of this run names, or -1 for an id of another run or none. */
    int job(UUID id) {
        var job = id.getLeastSignificantBits() ^ 0x8000_0000_0000_0000L;
        return id.getMostSignificantBits() == high && job >= 0 && job < ended.length ? (int) job : -1;
    }

    void submitted(int job, long at) {
        submitted[job] = at;
    }

    /** Records the jobs whose end was committed at {@code at}; ids of other runs are ignored. */
    synchronized void ended(List<UUID> ids, long at) {
        for (var id : ids) {
            if (id.getMostSignificantBits() == high) {
                var job = (int) id.getLeastSignificantBits();
                if (job >= 0 && job < ended.length && ended[job] == 0) {
                    ended[job] = at;
                    endedCount++;
                    if (endings != null) {
                        endings[job].countDown();
                    }
                }
            }
        }
        notifyAll();
    }

    /** Waits until the job's end is committed, at most {@code timeout}; answers whether it was. */
    boolean awaitEnd(int job, Duration timeout) throws InterruptedException {
        if (endings == null) {
            throw new IllegalStateException("this run's jobs are not awaited one by one");
        }
        return endings[job].await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Makes the run fail at once (a send or a statement of the path failed). */
    synchronized void fail(Throwable cause) {
        if (failure == null) {
            failure = cause;
        }
        notifyAll();
    }

    /** Waits until every job has ended; fails when the path failed or no job ended for {@code stall}. */
    synchronized void awaitAll(Duration stall) throws InterruptedException {
        var seen = -1;
        var lastProgress = System.nanoTime();
        while (failure == null && endedCount < ended.length) {
            if (endedCount != seen) {
                seen = endedCount;
                lastProgress = System.nanoTime();
            }
            var left = stall.toNanos() - (System.nanoTime() - lastProgress);
            if (left <= 0) {
                throw new IllegalStateException("bare path: no job ended for " + stall.toSeconds() + " s; "
                        + endedCount + " of " + ended.length + " ended");
            }
            wait(Math.max(1, left / 1_000_000));
        }
        if (failure != null) {
            throw new IllegalStateException("bare path failed: " + failure, failure);
        }
    }

    /** Each job's latency in milliseconds, from its submit to its end being committed; call after {@link #awaitAll}. */
    synchronized double[] latencies() {
        var millis = new double[ended.length];
        for (var i = 0; i < millis.length; i++) {
            millis[i] = Math.max(0, (ended[i] - submitted[i]) / 1e6);
        }
        return millis;
    }

    /** When the last job's end was committed. */
    synchronized long lastEnd() {
        var last = Long.MIN_VALUE;
        for (var at : ended) {
            last = Math.max(last, at);
        }
        return last;
    }
}
