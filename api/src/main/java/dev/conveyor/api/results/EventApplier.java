package dev.conveyor.api.results;

import dev.conveyor.api.dispatch.Dispatcher;
import dev.conveyor.api.metrics.JobFacts;
import dev.conveyor.api.metrics.JobMetrics;
import dev.conveyor.api.wakeup.JobNotifications;
import dev.conveyor.api.wakeup.JobWaiters;
import dev.conveyor.common.JobStatus;
import dev.conveyor.common.log.LogText;
import dev.conveyor.common.message.JobError;
import dev.conveyor.common.message.JobEvent;
import dev.conveyor.common.message.JobFinished;
import dev.conveyor.common.message.JobProgress;
import dev.conveyor.common.message.JobStarted;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Applies a batch of worker events: reads them as untrusted input ({@link EventReader}), locks and reads the jobs
 * they are about, lets the {@link JobLifecycle} fold each job's events in order into one change, and writes all
 * changes with one statement, in one transaction. A job's start and end in one batch make one write.
 *
 * <p>A batch is never dropped, and one bad event never holds up the others: a failure that is not the data's fault
 * (the database restarting, a lock conflict) is retried in place until it passes; a failure caused by the data, or
 * one of this code that repeats ({@link Retrying}: an event a bug cannot handle), is taken as something in the batch
 * that cannot be stored, and the batch is applied again one job at a time, so that only the job whose events cannot
 * be written is affected: its attempt fails with {@code INVALID_REPORT} (or, if even that cannot be written, its
 * events are skipped and counted in {@code conveyor.events.rejected}). A failure of the code fails at most
 * {@value CodeFailures#MOST} jobs a minute that way; past that it is taken for a bug that hits every event, and the
 * events wait, retried in place, rather than fail job after job.
 */
@Component
class EventApplier {

    private static final Logger log = LoggerFactory.getLogger(EventApplier.class);

    private final JobWrites writes;
    private final JobLifecycle lifecycle;
    private final TransactionTemplate transaction;
    private final JobNotifications notifications;
    private final JobWaiters waiters;
    private final Dispatcher dispatcher;
    private final Clock clock;
    private final Retrying retrying;
    private final Map<JobStatus, Counter> transitions = new EnumMap<>(JobStatus.class);
    private final Counter ignored;
    private final Counter rejected;
    private final JobMetrics jobMetrics;
    private final CodeFailures codeFailures = new CodeFailures(System::nanoTime);

    EventApplier(JobWrites writes, JobLifecycle lifecycle, TransactionTemplate transaction,
            JobNotifications notifications, JobWaiters waiters, Dispatcher dispatcher, Clock clock,
            MeterRegistry meters, JobMetrics jobMetrics) {
        this.writes = writes;
        this.dispatcher = dispatcher;
        this.lifecycle = lifecycle;
        this.transaction = transaction;
        this.notifications = notifications;
        this.waiters = waiters;
        this.clock = clock;
        this.jobMetrics = jobMetrics;
        this.retrying = new Retrying(log, "Writing the workers' events",
                "outcomes wait on Kafka, unapplied, and the events listener reads no further");
        for (var status : JobStatus.values()) {
            transitions.put(status, meters.counter("conveyor.jobs.transitions", "status", status.name()));
        }
        this.ignored = meters.counter("conveyor.events.ignored");
        this.rejected = meters.counter("conveyor.events.rejected");
    }

    /** Applies the events (JSON texts, in topic order) and wakes the waiters of jobs that ended. */
    void apply(List<String> texts) {
        var now = clock.instant();
        var events = new ArrayList<JobEvent>(texts.size());
        for (var text : texts) {
            EventReader.read(text, now).ifPresentOrElse(events::add, rejected::increment);
        }
        if (events.isEmpty()) {
            return;
        }
        // Each of these jobs has left QUEUED, or will once its events are applied (they are retried until they are).
        for (var event : events) {
            if (!(event instanceof JobProgress)) {
                dispatcher.settled(event.jobId(), event.generation(), event.attempt(),
                        event instanceof JobFinished f ? f.handBacks() : null);
            }
        }
        try {
            retrying.untilDone(() -> applyTogether(events));
        } catch (Retrying.Interrupted e) {
            throw e;
        } catch (RuntimeException e) {
            // the database's words about rows it refused may quote them: what workers (or anyone) sent
            log.warn("A batch of {} events could not be written ({}); applying it job by job", events.size(),
                    LogText.of(e.getMessage(), 1000));
            applyJobByJob(events);
        }
    }

    private void applyJobByJob(List<JobEvent> events) {
        var byJob = new LinkedHashMap<UUID, List<JobEvent>>();
        events.forEach(event -> byJob.computeIfAbsent(event.jobId(), id -> new ArrayList<>()).add(event));
        for (var jobEvents : byJob.values()) {
            try {
                retrying.untilDone(() -> applyTogether(jobEvents));
            } catch (Retrying.Interrupted e) {
                throw e;
            } catch (RuntimeException e) {
                if (Retrying.isCausedByData(e) || codeFailures.tryFail()) {
                    failInstead(jobEvents, e);
                } else {
                    waitForAFix(jobEvents, e);
                }
            }
        }
    }

    /**
     * The code failed on this job's events as on those of {@value CodeFailures#MOST} other jobs within a minute: a
     * bug that hits every event of some kind, not one event. Failing every such job would throw their outcomes away;
     * they wait on Kafka instead, retried in place, until a fixed api applies them.
     */
    private void waitForAFix(List<JobEvent> jobEvents, RuntimeException cause) {
        log.error("The api's code fails on the events of job {} as on those of {} other jobs within a minute ({}); "
                + "taking it for a bug that hits every such event: retrying in place, and the events listener reads "
                + "no further until it passes", jobEvents.getFirst().jobId(), CodeFailures.MOST,
                LogText.of(String.valueOf(cause), 1000), cause);
        retrying.untilDone(() -> applyTogether(jobEvents), false);
    }

    /** How many jobs a failure of the code (not the data's) may fail within a minute: a few poisoned events. */
    static final class CodeFailures {

        static final int MOST = 10;
        private static final long WINDOW_NANOS = Duration.ofMinutes(1).toNanos();

        private final ArrayDeque<Long> failedAt = new ArrayDeque<>();
        private final LongSupplier nanoTime;

        CodeFailures(LongSupplier nanoTime) {
            this.nanoTime = nanoTime;
        }

        /** Whether one more job may fail for a failure of the code now; counts it if so. */
        synchronized boolean tryFail() {
            var now = nanoTime.getAsLong();
            while (!failedAt.isEmpty() && now - failedAt.peekFirst() >= WINDOW_NANOS) {
                failedAt.removeFirst();
            }
            if (failedAt.size() >= MOST) {
                return false;
            }
            failedAt.addLast(now);
            return true;
        }
    }

    /** The job's events cannot be written: its attempt fails with {@code INVALID_REPORT} instead. */
    private void failInstead(List<JobEvent> jobEvents, RuntimeException cause) {
        var jobId = jobEvents.getFirst().jobId();
        var last = jobEvents.getLast();
        var message = "the worker's report of attempt " + last.attempt() + " cannot be stored: "
                + EventReader.clean(cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage(),
                        500);
        var failure = new JobFinished(JobEvent.VERSION, jobId, last.attempt(), last.generation(), 1,
                workerOf(jobEvents), JobFinished.Outcome.FAILED, null,
                new JobError(EventReader.INVALID_REPORT, message, false), null, clock.instant());
        var start = jobEvents.stream().filter(e -> e instanceof JobStarted).findFirst();
        var replacement = new ArrayList<JobEvent>();
        start.map(s -> new JobStarted(JobEvent.VERSION, s.jobId(), s.attempt(), s.generation(),
                workerOf(jobEvents), ((JobStarted) s).at()))
                .ifPresent(replacement::add);
        if (jobEvents.stream().anyMatch(e -> e instanceof JobFinished)) {
            replacement.add(failure);
        }
        log.error("Events of job {} cannot be written ({}); {}", jobId, LogText.of(cause.getMessage(), 1000),
                replacement.isEmpty() ? "skipping them" : "failing its attempt instead");
        rejected.increment(jobEvents.size());
        try {
            retrying.untilDone(() -> applyTogether(replacement));
        } catch (RuntimeException e) {
            log.error("Skipping the events of job {}: even its failure cannot be written ({})", jobId,
                    LogText.of(e.getMessage(), 1000));
        }
    }

    private static String workerOf(List<JobEvent> events) {
        for (var event : events) {
            var worker = switch (event) {
                case JobStarted s -> s.workerId();
                case JobFinished f -> f.workerId();
                case JobProgress p -> null;
            };
            if (worker != null) {
                return EventReader.clean(worker, 255);
            }
        }
        return null;
    }

    private void applyTogether(List<JobEvent> events) {
        if (events.isEmpty()) {
            return;
        }
        var handed = new HashMap<UUID, JobWaiters.Ended>();
        var handOver = new HashSet<UUID>();
        List<UUID> endedHere = null;
        try {
            endedHere = applyTogether(events, handOver, handed);
        } finally {
            if (endedHere == null) {
                // not committed: the long-polls kept for this transaction read their jobs again
                waiters.wake(handOver, Map.of());
            }
        }
        // Committed: this instance's long-polls answer now, without waiting for the NOTIFY to come back through
        // PostgreSQL to the listener (which wakes the other instances' and finds these already gone).
        waiters.wake(endedHere, handed);
    }

    /** One transaction; answers the jobs it ended. */
    private List<UUID> applyTogether(List<JobEvent> events, Set<UUID> handOver, Map<UUID, JobWaiters.Ended> handed) {
        return transaction.execute(status -> {
            var ids = new LinkedHashSet<UUID>();
            events.forEach(event -> ids.add(event.jobId()));
            var updates = new LinkedHashMap<UUID, JobUpdate>();
            var facts = new HashMap<UUID, JobFacts>();
            writes.lock(ids, facts).forEach((id, state) -> updates.put(id, JobUpdate.of(state)));
            var now = clock.instant();
            var unapplied = 0;
            for (var event : events) {
                var update = updates.get(event.jobId());
                if (update == null) {
                    unapplied++; // no such job
                    continue;
                }
                var next = switch (event) {
                    case JobStarted started -> lifecycle.started(update, started);
                    case JobProgress progress -> lifecycle.progressed(update, progress);
                    case JobFinished finished -> lifecycle.finished(update, finished, now, facts.get(event.jobId()));
                };
                if (next.equals(update)) {
                    unapplied++; // a duplicate, a stale attempt or generation, a job that ended meanwhile
                }
                updates.put(event.jobId(), next);
            }
            var changed = updates.values().stream().filter(JobUpdate::changes).toList();
            // the jobs this transaction ends; of those, the ones with long-polls waiting on this instance: their rows
            // come back with the write, and the long-polls answer with them instead of reading them again
            var ended = new ArrayList<UUID>();
            for (var update : changed) {
                if (update.to().status().isTerminal() && update.to().status() != update.from().status()) {
                    ended.add(update.to().id());
                    if (waiters.handOverPending(update.to().id())) {
                        handOver.add(update.to().id());
                    }
                }
            }
            var written = writes.write(changed, handOver::contains);
            if (written.size() != changed.size()) {
                throw new IllegalStateException("wrote " + written.size() + " of " + changed.size()
                        + " job changes under their locks");
            }
            for (var job : written) {
                if (job.ended() != null) {
                    handed.put(job.id(), job.ended());
                }
            }
            var moves = jobMetrics.afterCommit();
            for (var update : changed) {
                moves.moved(facts.get(update.to().id()), update.from().status(), update.to().status(),
                        update.startedAt(), update.finishedAt());
                if (update.to().status() != update.from().status()) {
                    transitions.get(update.to().status()).increment();
                }
            }
            ignored.increment(unapplied);
            notifications.notifyEnded(ended);
            return ended;
        });
    }
}
