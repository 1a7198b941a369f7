package dev.conveyor.local;

import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Starts a worker that ended while {@code local} runs again, as a supervisor would: with the default single worker,
 * one job that killed it (an {@code OutOfMemoryError}, a native crash) stopped all processing until someone started
 * everything again. The wait before each start is 1 s, doubled while the worker keeps ending within a minute of its
 * start, at most 30 s, so that a worker that cannot start is tried twice a minute rather than in a busy loop.
 */
final class WorkerRestarts {

    static final Duration FIRST_WAIT = Duration.ofSeconds(1);
    static final Duration MAX_WAIT = Duration.ofSeconds(30);
    /** A worker that ran at least this long before it ended is started again after the first wait. */
    static final Duration STEADY_AFTER = Duration.ofSeconds(60);

    /** Starts a worker again as it was started; empty once {@code local} is stopping, when nothing may start. */
    @FunctionalInterface
    interface Relaunch {
        Optional<ChildProcess> relaunch(ChildProcess ended);
    }

    /** Runs a task once a wait has passed, on a thread of its own. */
    @FunctionalInterface
    interface Delays {
        void after(Duration wait, Runnable task);
    }

    /** When a worker was last started again, and after which wait. */
    private record Start(Instant at, Duration after) {
    }

    private final PrintStream out;
    private final Clock clock;
    private final Delays delays;
    private final Relaunch relaunch;
    private final Map<String, Start> starts = new ConcurrentHashMap<>();

    WorkerRestarts(PrintStream out, Clock clock, Delays delays, Relaunch relaunch) {
        this.out = out;
        this.clock = clock;
        this.delays = delays;
        this.relaunch = relaunch;
    }

    /** The wait before the next start of a worker that ran for {@code ran}, having been started after {@code last}. */
    static Duration nextWait(Duration last, Duration ran) {
        if (ran.compareTo(STEADY_AFTER) >= 0) {
            return FIRST_WAIT;
        }
        var doubled = last.multipliedBy(2);
        return doubled.compareTo(MAX_WAIT) < 0 ? doubled : MAX_WAIT;
    }

    /**
     * Starts {@code worker}, which ended unasked, again after the wait, and hands the new process to {@code watch}; the
     * caller has checked that no stop is under way.
     */
    void ended(ChildProcess worker, Consumer<ChildProcess> watch) {
        var last = starts.get(worker.name());
        var wait = last == null ? FIRST_WAIT : nextWait(last.after(), Duration.between(last.at(), clock.instant()));
        out.println("!! " + worker + " exited unexpectedly with code " + worker.exitValue() + "; starting it again in "
                + wait.toSeconds() + " s; see " + worker.logFile());
        delays.after(wait, () -> restart(worker, wait, watch));
    }

    private void restart(ChildProcess ended, Duration wait, Consumer<ChildProcess> watch) {
        Optional<ChildProcess> started;
        try {
            started = relaunch.relaunch(ended);
        } catch (RuntimeException e) {
            // a fork that failed (no memory, too many processes) is a worker that ended at once: try again later
            var next = nextWait(wait, Duration.ZERO);
            out.println("!! cannot start " + ended.name() + " again (" + e.getMessage() + "); trying again in "
                    + next.toSeconds() + " s");
            delays.after(next, () -> restart(ended, next, watch));
            return;
        }
        started.ifPresent(worker -> {
            starts.put(worker.name(), new Start(clock.instant(), wait));
            out.println("   " + worker + " started again");
            watch.accept(worker);
        });
    }
}
