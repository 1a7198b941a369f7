package dev.conveyor.worker.execute;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Ends attempts whose deadline has passed, with one virtual thread for all of them instead of a timer per attempt
 * (an entry armed and disarmed in the JDK's scheduler of timed waits for every job). The thread looks over the
 * running attempts when the earliest deadline it knows of falls, but at most every {@link #TICK} (so under load an
 * attempt may end up to that late) and at least every {@link #LONGEST_SLEEP} (an attempt that starts meanwhile has a
 * deadline at least a second off, {@code timeoutSeconds} being at least 1, so it is seen in time). It stops when no
 * attempt runs, and the next attempt starts it again.
 */
final class Deadlines {

    /** The shortest time between two looks. */
    static final Duration TICK = Duration.ofMillis(50);
    /** The longest time between two looks while attempts run. */
    static final Duration LONGEST_SLEEP = Duration.ofMillis(250);

    private final Set<Attempt> running = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean watching = new AtomicBoolean();

    void add(Attempt attempt) {
        running.add(attempt);
        if (watching.compareAndSet(false, true)) {
            Thread.ofVirtual().name("conveyor-deadlines").start(this::watch);
        }
    }

    void remove(Attempt attempt) {
        running.remove(attempt);
    }

    /** Attempts watched now, for tests. */
    int watched() {
        return running.size();
    }

    /** Whether a thread watches now, for tests. */
    boolean isWatching() {
        return watching.get();
    }

    private void watch() {
        try {
            while (true) {
                var now = System.currentTimeMillis();
                var earliest = now + LONGEST_SLEEP.toMillis();
                for (var attempt : running) {
                    var deadline = attempt.deadlineMillis();
                    if (deadline <= now) {
                        running.remove(attempt);
                        attempt.timeOut();
                    } else {
                        earliest = Math.min(earliest, deadline);
                    }
                }
                if (running.isEmpty()) {
                    watching.set(false);
                    // An attempt added meanwhile either started a new watcher or finds this one going on.
                    if (running.isEmpty() || !watching.compareAndSet(false, true)) {
                        return;
                    }
                    continue;
                }
                Thread.sleep(Math.max(earliest - now, TICK.toMillis()));
            }
        } catch (InterruptedException e) {
            watching.set(false);
        }
    }
}
