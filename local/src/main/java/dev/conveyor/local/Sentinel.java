package dev.conveyor.local;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * What {@code local} does when one of its processes ends while it runs, and no stop asked for it: a worker is started
 * again ({@link WorkerRestarts}), or, with restarts off, its end is reported and the others go on; the end of
 * PostgreSQL, Kafka or an api, without which nothing works, stops everything with exit code 1.
 */
final class Sentinel {

    /** The exit code of a {@code local} that stopped because a process it needs ended. */
    static final int DIED = 1;

    private final PrintStream out;
    private final BooleanSupplier stopping;
    private final IntConsumer exit;
    private final WorkerRestarts restarts;
    private final AtomicInteger workers = new AtomicInteger();

    /** A sentinel that does not start workers again. */
    Sentinel(PrintStream out, BooleanSupplier stopping, IntConsumer exit) {
        this(out, stopping, exit, null);
    }

    /**
     * {@code exit} ends the launcher (its shutdown hook then stops the rest); {@code stopping}: a stop is under way;
     * {@code restarts}: what starts a worker again, or null to let it go.
     */
    Sentinel(PrintStream out, BooleanSupplier stopping, IntConsumer exit, WorkerRestarts restarts) {
        this.out = out;
        this.stopping = stopping;
        this.exit = exit;
        this.restarts = restarts;
    }

    /** Watches a child JVM: the broker, an api or a worker ({@code worker-N}). */
    void watch(ChildProcess child) {
        if (child.name().startsWith("worker-")) {
            if (restarts == null) {
                workers.incrementAndGet();
            }
            child.onExit().thenRun(() -> workerEnded(child));
            return;
        }
        child.onExit().thenRun(() -> ended(child + " exited unexpectedly with code " + child.exitValue(),
                child.logFile(), child.name()));
    }

    /**
     * Watches the embedded PostgreSQL's server, which is not a child of this JVM ({@code pg_ctl} starts it): it went
     * unnoticed, and the api answered every request with 503 under a banner saying Conveyor was running.
     */
    void watchPostgres(long pid, Path logFile) {
        ProcessHandle.of(pid).map(ProcessHandle::onExit).orElse(CompletableFuture.completedFuture(null))
                .thenRun(() -> ended("PostgreSQL (pid " + pid + ") exited unexpectedly", logFile, "PostgreSQL"));
    }

    private void workerEnded(ChildProcess worker) {
        if (stopping.getAsBoolean()) {
            return;
        }
        if (restarts != null) {
            restarts.ended(worker, this::watch);
            return;
        }
        out.println();
        out.println("!! " + worker + " exited unexpectedly with code " + worker.exitValue() + "; see "
                + worker.logFile());
        var left = workers.decrementAndGet();
        out.println(left > 0 ? "!! " + left + " other worker(s) go on; its running jobs run again there once the api "
                + "has found it silent" : "!! no worker is left: jobs wait QUEUED; start conveyor-local again");
    }

    private void ended(String what, Path logFile, String essential) {
        if (stopping.getAsBoolean()) {
            return;
        }
        out.println();
        out.println("!! " + what + "; see " + logFile);
        out.println("!! nothing works without the " + essential + ": stopping everything");
        exit.accept(DIED);
    }
}
