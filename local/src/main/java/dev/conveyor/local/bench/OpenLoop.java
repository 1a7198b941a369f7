package dev.conveyor.local.bench;

import java.util.concurrent.Executors;
import java.util.concurrent.locks.LockSupport;

/**
 * An open loop paced by the clock, as W3 sends: job {@code n} is due {@code n / rate} seconds after the start, whatever
 * became of the jobs before it (a slow answer does not delay the next submit), and runs on a virtual thread of its own.
 */
final class OpenLoop {

    /** One job of the loop. */
    @FunctionalInterface
    interface Job {

        /**
         * Called on the pacing thread when job {@code n} is due ({@code plannedNanos}, on {@link System#nanoTime()}'s
         * clock); answers what then runs on the job's own virtual thread.
         */
        Runnable due(int n, long plannedNanos);
    }

    private OpenLoop() {
    }

    /** Sends {@code jobs} jobs at {@code rate} per second and returns, once every one has run, the loop's start. */
    static long run(int jobs, int rate, Job job) {
        var period = 1e9 / rate;
        var start = System.nanoTime();
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (var n = 0; n < jobs; n++) {
                var planned = start + (long) (n * period);
                var wait = planned - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                threads.execute(job.due(n, planned));
            }
        }
        return start;
    }
}
