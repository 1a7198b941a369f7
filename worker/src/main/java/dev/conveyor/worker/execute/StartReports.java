package dev.conveyor.worker.execute;

import dev.conveyor.common.message.JobStarted;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

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
 */
final class StartReports implements AutoCloseable {

    private final EventPublisher events;
    private final long delayNanos;
    private final ScheduledThreadPoolExecutor timers;

    StartReports(EventPublisher events, Duration delay) {
        this.events = events;
        this.delayNanos = delay.toNanos();
        this.timers = new ScheduledThreadPoolExecutor(1, Thread.ofPlatform().daemon().name("start-events").factory());
        timers.setRemoveOnCancelPolicy(true);
    }

    /** The start of an attempt taken now: sent after the delay unless the attempt ends (or reports) first. */
    Report begin(JobStarted start) {
        var report = new Report(start);
        if (delayNanos == 0) {
            report.sendNow();
        } else {
            // A send can block (Kafka unreachable): never on the one timer thread that all attempts share.
            report.timer = timers.schedule(() -> Thread.startVirtualThread(report::sendNow), delayNanos,
                    TimeUnit.NANOSECONDS);
        }
        return report;
    }

    @Override
    public void close() {
        timers.shutdownNow();
    }

    /** One attempt's start: pending, sent, or never to be sent (the attempt's end stands for it). */
    final class Report {

        private static final int PENDING = 0;
        private static final int SENT = 1;
        private static final int FOLDED = 2;

        private final JobStarted start;
        private final AtomicInteger state = new AtomicInteger(PENDING);
        private volatile ScheduledFuture<?> timer;

        private Report(JobStarted start) {
            this.start = start;
        }

        /** Sends the start now, unless it was sent or the attempt has ended. */
        void sendNow() {
            if (state.compareAndSet(PENDING, SENT)) {
                cancelTimer();
                events.send(start);
            }
        }

        /** The attempt ends: its start is no longer sent on its own. */
        void ended() {
            if (state.compareAndSet(PENDING, FOLDED)) {
                cancelTimer();
            }
        }

        /** When the attempt was taken: its end carries this, which stands for the start if it was never sent. */
        Instant takenAt() {
            return start.at();
        }

        private void cancelTimer() {
            var scheduled = timer;
            if (scheduled != null) {
                scheduled.cancel(false);
            }
        }
    }
}
