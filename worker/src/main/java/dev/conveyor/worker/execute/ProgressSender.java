package dev.conveyor.worker.execute;

import dev.conveyor.common.handler.ProgressReporter;
import dev.conveyor.common.message.JobDispatch;
import dev.conveyor.common.message.JobEvent;
import dev.conveyor.common.message.JobProgress;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a handler's progress reports as events, at most one per {@link #MIN_GAP_MILLIS}: a handler may report
 * in a tight loop without flooding Kafka. The first report of 0, and the first of 1, always go out; later ones wait
 * their turn like any other (a handler's {@code done / total} in whole numbers is 0 until the end: each of its items
 * sent an event, and the api wrote each). A report Kafka will not take is dropped: progress is advice, and losing it
 * must not fail the job that reported it.
 */
final class ProgressSender implements ProgressReporter {

    private static final Logger log = LoggerFactory.getLogger(ProgressSender.class);
    static final long MIN_GAP_MILLIS = 200;
    private static final int MAX_MESSAGE = 500;

    private final EventPublisher events;
    private final JobDispatch job;
    private final Clock clock;
    private final Runnable startFirst;
    private long lastSent;
    private boolean zeroSent;
    private boolean oneSent;
    private volatile boolean ended;

    /** @param startFirst sends the attempt's start if it has not gone yet: the api applies progress to a RUNNING job */
    ProgressSender(EventPublisher events, JobDispatch job, Clock clock, Runnable startFirst) {
        this.events = events;
        this.job = job;
        this.clock = clock;
        this.startFirst = startFirst;
    }

    /**
     * The attempt has ended: later reports (from a thread the handler left running, or from a handler that runs on
     * past its deadline) are dropped. Each sent an event every {@link #MIN_GAP_MILLIS} for as long as it ran, which
     * the api read and ignored.
     */
    void end() {
        ended = true;
    }

    @Override
    public synchronized void report(double fraction, String message) {
        if (ended) {
            return;
        }
        if (!(fraction >= 0 && fraction <= 1)) {
            return; // JobContext checks this; a handler calling its reporter directly gets no NaN onto the wire
        }
        var now = clock.millis();
        var first = fraction == 0 ? !zeroSent : fraction == 1 && !oneSent;
        if (!first && now - lastSent < MIN_GAP_MILLIS) {
            return;
        }
        lastSent = now;
        zeroSent |= fraction == 0;
        oneSent |= fraction == 1;
        try {
            startFirst.run();
            events.send(new JobProgress(JobEvent.VERSION, job.jobId(), job.attempt(), job.generation(), fraction,
                    JobOutcomes.text(message, MAX_MESSAGE), clock.instant()));
        } catch (RuntimeException e) {
            // A send throws when Kafka cannot be reached for max.block.ms: the handler waited that long already.
            log.warn("Dropped a progress report of job {} attempt {}: {}", job.jobId(), job.attempt(),
                    e.getMessage());
        }
    }
}
