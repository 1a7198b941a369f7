package dev.conveyor.worker.execute;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Ends attempts whose deadline has passed. One virtual thread looks over the running attempts every {@link #TICK}
 * while there are any, so an attempt costs no timer of its own (the JDK's scheduler of timed waits, an entry
 * armed and disarmed per job) and a deadline is met within a tick. The thread stops when no attempt runs, and the
 * next attempt starts it again.
 */
final class Deadlines {

    /** How often deadlines are checked, and so how late past its deadline an attempt may be ended. */
    static final Duration TICK = Duration.ofMillis(50);

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
                Thread.sleep(TICK);
                var now = System.currentTimeMillis();
                for (var attempt : running) {
                    if (attempt.isOverdue(now)) {
                        running.remove(attempt);
                        attempt.timeOut();
                    }
                }
                if (running.isEmpty()) {
                    watching.set(false);
                    // An attempt added meanwhile either started a new watcher or finds this one going on.
                    if (running.isEmpty() || !watching.compareAndSet(false, true)) {
                        return;
                    }
                }
            }
        } catch (InterruptedException e) {
            watching.set(false);
        }
    }
}
