package dev.conveyor.worker.execute;

import dev.conveyor.common.message.JobStarted;
import java.time.Duration;
import java.time.Instant;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Sends an attempt's start only once the attempt has run for {@code start-event-after}: most jobs end sooner, and
 * their end, which carries when they started, is then the only event they cost (one Kafka record, one write at the
 * api, instead of two of each). A start goes out at once when the handler reports progress, so that the api shows
 * the job RUNNING before its progress.
 *
 * <p>Until the start or the end reaches the api, the job shows QUEUED. If the worker dies meanwhile, the record it
 * accepted is settled in Kafka and no event of the attempt ever comes: the api's record reconciler finds the job
 * waiting on a settled record and counts the attempt as lost with its worker, as it does for a worker that dies
 * after its start.
 *
 * <p>Every attempt waits the same delay, so attempts fall due in the order they were taken: one queue in that order
 * and one thread that sleeps until the first is due do the work of a timer per attempt, without a wake-up or a
 * cancellation per job. An attempt that ended meanwhile is just dropped when its turn comes.
 */
final class StartReports implements AutoCloseable {

    private final EventPublisher events;
    private final long delayNanos;
    private final Queue<Report> due = new ConcurrentLinkedQueue<>();
    private final Thread sender;
    private volatile boolean running = true;

    StartReports(EventPublisher events, Duration delay) {
        this.events = events;
        this.delayNanos = delay.toNanos();
        this.sender = delayNanos == 0 ? null : Thread.ofVirtual().name("start-events").start(this::send);
    }

    /** The start of an attempt taken now: sent after the delay unless the attempt ends (or reports) first. */
    Report begin(JobStarted start) {
        var report = new Report(start, System.nanoTime() + delayNanos);
        if (delayNanos == 0) {
            report.sendNow();
        } else {
            due.add(report);
        }
        return report;
    }

    private void send() {
        while (running) {
            var first = due.peek();
            if (first == null) {
                LockSupport.parkNanos(delayNanos);
                continue;
            }
            var wait = first.dueAt - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
                continue;
            }
            due.poll();
            if (first.isPending()) {
                // A send can block (Kafka unreachable): never on the one thread every attempt's start waits on.
                Thread.startVirtualThread(first::sendNow);
            }
        }
    }

    @Override
    public void close() {
        running = false;
        if (sender != null) {
            LockSupport.unpark(sender);
        }
    }

    /** One attempt's start: pending, sent, or never to be sent (the attempt's end stands for it). */
    final class Report {

        private static final int PENDING = 0;
        private static final int SENT = 1;
        private static final int FOLDED = 2;

        private final JobStarted start;
        private final long dueAt;
        private final AtomicInteger state = new AtomicInteger(PENDING);

        private Report(JobStarted start, long dueAt) {
            this.start = start;
            this.dueAt = dueAt;
        }

        /** Sends the start now, unless it was sent or the attempt has ended. */
        void sendNow() {
            if (state.compareAndSet(PENDING, SENT)) {
                events.send(start);
            }
        }

        /** The attempt ends: its start is no longer sent on its own. */
        void ended() {
            state.compareAndSet(PENDING, FOLDED);
        }

        /** When the attempt was taken: its end carries this, which stands for the start if it was never sent. */
        Instant takenAt() {
            return start.at();
        }

        private boolean isPending() {
            return state.get() == PENDING;
        }
    }
}
