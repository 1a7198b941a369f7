package dev.conveyor.worker.execute;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.common.message.JobDispatch;
import dev.conveyor.common.message.JobError;
import dev.conveyor.common.message.JobFinished;
import dev.conveyor.common.message.JobStarted;
import dev.conveyor.worker.WorkerProperties;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Runs one delivered record and answers how to acknowledge it. A cancelled job is reported and accepted without
 * running; otherwise the job waits for its type's limit, reports its start, runs as an {@link Attempt}, and is
 * accepted only once Kafka has its outcome, so a crash before that makes Kafka deliver it again. While the worker
 * drains, records not started yet are released for other workers, and abandoned attempts are released unreported.
 */
@Component
public class JobRunner {

    private static final Logger log = LoggerFactory.getLogger(JobRunner.class);

    private final HandlerRegistry handlers;
    private final EventPublisher events;
    private final RunningAttempts attempts;
    private final TypeLimits limits;
    private final WorkerProperties properties;
    private final Clock clock;
    private final MeterRegistry meters;
    private final AtomicLong completed = new AtomicLong();
    private volatile boolean draining;

    JobRunner(HandlerRegistry handlers, EventPublisher events, RunningAttempts attempts, TypeLimits limits,
            WorkerProperties properties, Clock clock, MeterRegistry meters) {
        this.handlers = handlers;
        this.events = events;
        this.attempts = attempts;
        this.limits = limits;
        this.properties = properties;
        this.clock = clock;
        this.meters = meters;
        meters.gauge("conveyor.worker.in.flight", attempts, RunningAttempts::count);
    }

    AcknowledgeType run(ConsumerRecord<String, String> record) throws InterruptedException {
        JobDispatch job;
        try {
            job = Json.read(record.value(), JobDispatch.class);
        } catch (RuntimeException e) {
            log.error("Rejecting an unreadable job record at {}-{}@{}: {}", record.topic(), record.partition(),
                    record.offset(), e.getMessage());
            return AcknowledgeType.REJECT;
        }
        // Each earlier delivery of this record was an attempt whose worker stopped before it ended.
        int deliveries = record.deliveryCount().map(Short::intValue).orElse(1);
        var attempt = job.attempt() + deliveries - 1;
        if (attempts.isCancelled(job.jobId(), job.generation())) {
            return report(job, attempt, cancelledBeforeStart(job, attempt));
        }
        if (deliveries > properties.poisonDeliveries()) {
            return report(job, attempt, poison(job, attempt, deliveries));
        }
        if (draining || !limits.acquire(job.type(), () -> draining)) {
            return AcknowledgeType.RELEASE;
        }
        try {
            return runAttempt(job, attempt);
        } finally {
            limits.release(job.type());
        }
    }

    private AcknowledgeType runAttempt(JobDispatch job, int attempt) throws InterruptedException {
        var handler = handlers.find(job.type()).orElse(null);
        if (handler == null) {
            return report(job, attempt, failed(job, attempt, new JobError(JobError.NO_HANDLER, "no handler for job "
                    + "type '" + job.type() + "' on worker " + properties.id() + " (it runs " + handlers.types()
                    + ")", false), null));
        }
        var running = new Attempt(job.generation());
        if (!attempts.register(job.jobId(), running)) {
            return report(job, attempt, cancelledBeforeStart(job, attempt));
        }
        try {
            var started = clock.instant();
            events.send(new JobStarted(job.jobId(), attempt, properties.id(), started));
            var progress = new ProgressSender(events, job.jobId(), attempt, clock);
            var context = new JobContext(job.jobId(), job.type(), job.queue(), attempt, job.maxAttempts(),
                    job.payload(), started.plusSeconds(job.timeoutSeconds()), progress);
            var sample = Timer.start(meters);
            var end = running.run(handler, context);
            if (end instanceof Attempt.End.Abandoned) {
                return AcknowledgeType.RELEASE;
            }
            var outcome = outcome(job, attempt, end);
            sample.stop(meters.timer("conveyor.worker.attempts", "type", job.type(),
                    "outcome", outcome.error() == null ? "SUCCEEDED" : outcome.error().code()));
            return publish(outcome);
        } finally {
            attempts.unregister(job.jobId(), running);
        }
    }

    /** Stops starting records, and releases those waiting for a type limit. */
    void drain() {
        draining = true;
    }

    /** Interrupts the attempts still running and hands their records back. */
    void abandonRunning() {
        attempts.abandonAll();
    }

    /** Attempts whose outcome this worker reported. */
    public long completed() {
        return completed.get();
    }

    /** The job types this worker runs. */
    public List<String> types() {
        return handlers.types();
    }

    /** Attempts running now. */
    public int inFlight() {
        return attempts.count();
    }

    private AcknowledgeType report(JobDispatch job, int attempt, JobFinished outcome) {
        events.send(new JobStarted(job.jobId(), attempt, properties.id(), clock.instant()));
        return publish(outcome);
    }

    private AcknowledgeType publish(JobFinished outcome) {
        if (!events.sendAndWait(outcome)) {
            return AcknowledgeType.RELEASE;
        }
        completed.incrementAndGet();
        return AcknowledgeType.ACCEPT;
    }

    private JobFinished outcome(JobDispatch job, int attempt, Attempt.End end) {
        return switch (end) {
            case Attempt.End.Returned(var value) -> succeeded(job, attempt, value);
            case Attempt.End.Threw(var error) -> threw(job, attempt, error);
            case Attempt.End.TimedOut() -> failed(job, attempt, new JobError(JobError.TIMEOUT,
                    "attempt " + attempt + " ran longer than timeoutSeconds=" + job.timeoutSeconds(), true), null);
            case Attempt.End.Cancelled() -> cancelled(job, attempt, "cancelled while running");
            case Attempt.End.Abandoned() -> throw new IllegalStateException("abandoned attempts are not reported");
        };
    }

    private JobFinished succeeded(JobDispatch job, int attempt, tools.jackson.databind.JsonNode value) {
        var size = Json.writeBytes(value).length;
        if (size > properties.maxResultBytes()) {
            return failed(job, attempt, new JobError(JobError.RESULT_TOO_LARGE, "the result is " + size
                    + " bytes encoded; at most " + properties.maxResultBytes() + " are allowed", false), null);
        }
        return JobFinished.succeeded(job, attempt, properties.id(), value, clock.instant());
    }

    private JobFinished threw(JobDispatch job, int attempt, Throwable cause) {
        if (cause instanceof JobFailure failure) {
            var retryAfter = failure.retryAfter() == null ? null : failure.retryAfter().toMillis();
            return failed(job, attempt, new JobError(failure.code(), failure.getMessage(), failure.retryable()),
                    retryAfter);
        }
        var message = cause.getMessage() == null ? cause.getClass().getName() : cause.getMessage();
        return failed(job, attempt, new JobError(JobError.HANDLER_ERROR, message, true), null);
    }

    private JobFinished cancelledBeforeStart(JobDispatch job, int attempt) {
        return cancelled(job, attempt, "cancelled before it started");
    }

    private JobFinished cancelled(JobDispatch job, int attempt, String message) {
        return new JobFinished(JobFinished.VERSION, job.jobId(), attempt, job.maxAttempts(), properties.id(),
                JobFinished.Outcome.CANCELLED, null, new JobError(JobError.CANCELLED, message, false), null,
                clock.instant());
    }

    private JobFinished poison(JobDispatch job, int attempt, int deliveries) {
        log.error("Job {} was delivered {} times and its worker stopped each time; failing it", job.jobId(),
                deliveries);
        return failed(job, attempt, new JobError(JobError.WORKER_LOST, "delivered " + deliveries
                + " times and each time the worker stopped before the attempt ended; not run again", false), null);
    }

    private JobFinished failed(JobDispatch job, int attempt, JobError error, Long retryAfterMs) {
        return JobFinished.failed(job, attempt, properties.id(), error, retryAfterMs, clock.instant());
    }
}
