package dev.conveyor.worker.execute;

import dev.conveyor.common.handler.ProgressReporter;
import dev.conveyor.common.message.JobEvent;
import dev.conveyor.common.message.JobProgress;
import java.time.Clock;
import java.util.UUID;

/**
 * Sends a handler's progress reports as events, at most one per {@link #MIN_GAP_MILLIS}: a handler may report
 * in a tight loop without flooding Kafka. Reports of 0 and 1 always go out.
 */
final class ProgressSender implements ProgressReporter {

    static final long MIN_GAP_MILLIS = 200;
    private static final int MAX_MESSAGE = 500;

    private final EventPublisher events;
    private final UUID jobId;
    private final int attempt;
    private final Clock clock;
    private long lastSent;

    ProgressSender(EventPublisher events, UUID jobId, int attempt, Clock clock) {
        this.events = events;
        this.jobId = jobId;
        this.attempt = attempt;
        this.clock = clock;
    }

    @Override
    public synchronized void report(double fraction, String message) {
        if (!(fraction >= 0 && fraction <= 1)) {
            return; // JobContext checks this; a handler calling its reporter directly gets no NaN onto the wire
        }
        var now = clock.millis();
        if (fraction > 0 && fraction < 1 && now - lastSent < MIN_GAP_MILLIS) {
            return;
        }
        lastSent = now;
        var text = JobOutcomes.text(message, MAX_MESSAGE);
        events.send(new JobProgress(JobEvent.VERSION, jobId, attempt, fraction, text, clock.instant()));
    }
}
