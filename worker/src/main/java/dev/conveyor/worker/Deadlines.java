package dev.conveyor.worker;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Ends the job path's waits at their deadlines from one platform thread, so that the virtual threads waiting can
 * park without a timeout.
 *
 * <p>Why: in JDK 25 a timed park of a virtual thread registers a task with its carrier pool's delay scheduler, and
 * cancels it when the thread wakes; each of the two wakes the scheduler's own thread if it sleeps, a futex call and
 * a context switch. A job waits so twice on its way (the runner for its attempt's end, up to the job's timeout; the
 * runner again for Kafka to take its outcome), an {@code http} job twice more (for a connection, in each read); under
 * W2 that thread took 7.9 % of the worker's CPU, the carriers a further 13 % of theirs in the signalling, and over
 * W1's noop jobs these two waits alone kept it at 0.48 s per 60,000 jobs, against 0.03 s for this class's thread.
 * A {@link ScheduledThreadPoolExecutor} wakes its thread only for a task that becomes the earliest, and removes a
 * cancelled one without a wake-up; these deadlines are far away (seconds to minutes) and are nearly always
 * cancelled, so each costs a heap insertion and removal under a lock. Its tasks only complete a future, interrupt a
 * thread or cancel a request, so that one late task cannot hold the others back.
 *
 * <p>The {@code http} handler's exchanges use it too, for the cancel that ends an exchange at its deadline.
 *
 * <p>Like {@code CompletableFuture}'s delayer, the thread is a daemon that lives as long as the JVM: a wait begun
 * while the worker stops still gets its deadline.
 */
public final class Deadlines {

    private static final ScheduledThreadPoolExecutor TIMER = timer();

    private Deadlines() {
    }

    private static ScheduledThreadPoolExecutor timer() {
        var timer = new ScheduledThreadPoolExecutor(1, task -> {
            var thread = new Thread(task, "conveyor-deadlines");
            thread.setDaemon(true);
            return thread;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    /** Runs {@code task} (briefly: it runs on the one timer thread) after {@code millis}, unless cancelled first. */
    public static ScheduledFuture<?> after(long millis, Runnable task) {
        return TIMER.schedule(task, Math.max(0, millis), TimeUnit.MILLISECONDS);
    }

    /** The same, after {@code nanos}. */
    public static ScheduledFuture<?> afterNanos(long nanos, Runnable task) {
        return TIMER.schedule(task, Math.max(0, nanos), TimeUnit.NANOSECONDS);
    }
}
