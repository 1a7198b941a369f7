package dev.conveyor.local;

import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** The waits before a worker starts again, for the tests: each is kept until the test runs it. */
final class ManualDelays implements WorkerRestarts.Delays {

    /** A task, and how long it was meant to wait. */
    record Pending(Duration delay, Runnable task) {
    }

    private final LinkedBlockingQueue<Pending> pending = new LinkedBlockingQueue<>();

    @Override
    public void after(Duration wait, Runnable task) {
        pending.add(new Pending(wait, task));
    }

    /** The next task asked for, awaited for up to 30 s. */
    Pending next() throws InterruptedException {
        var next = pending.poll(30, TimeUnit.SECONDS);
        if (next == null) {
            throw new AssertionError("no restart was asked for within 30 s");
        }
        return next;
    }

    /** Whether a task is waiting to be run. */
    boolean isEmpty() {
        return pending.isEmpty();
    }
}
