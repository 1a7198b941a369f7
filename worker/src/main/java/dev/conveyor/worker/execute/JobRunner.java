package dev.conveyor.worker.execute;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.common.handler.JobHandler;
import dev.conveyor.common.message.JobDispatch;
import dev.conveyor.common.message.JobError;
import dev.conveyor.common.message.JobFinished;
import dev.conveyor.common.message.JobStarted;
import dev.conveyor.worker.WorkerProperties;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * Runs one delivered record: reports the start, runs the handler on a virtual thread of its own with the job's
 * deadline (interrupting it when the deadline passes), reports the outcome, and answers how to acknowledge the
 * record. The record is accepted only once Kafka has the outcome, so a crash before that makes Kafka deliver
 * the job again.
 */
@Component
public class JobRunner {

    private static final Logger log = LoggerFactory.getLogger(JobRunner.class);

    private final HandlerRegistry handlers;
    private final EventPublisher events;
    private final WorkerProperties properties;
    private final Clock clock;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong completed = new AtomicLong();

    private final MeterRegistry meters;

    JobRunner(HandlerRegistry handlers, EventPublisher events, WorkerProperties properties, Clock clock,
            MeterRegistry meters) {
        this.handlers = handlers;
        this.events = events;
        this.properties = properties;
        this.clock = clock;
        this.meters = meters;
        meters.gauge("conveyor.worker.in.flight", inFlight);
    }

    AcknowledgeType run(ConsumerRecord<String, String> record) {
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
        inFlight.incrementAndGet();
        try {
            events.send(new JobStarted(job.jobId(), attempt, properties.id(), clock.instant()));
            var sample = Timer.start(meters);
            var outcome = deliveries > properties.poisonDeliveries()
                    ? poison(job, attempt, deliveries)
                    : execute(job, attempt);
            // only known types become tags: job types come from clients, and tags must stay few
            var type = handlers.find(job.type()).isPresent() ? job.type() : "unknown";
            sample.stop(meters.timer("conveyor.worker.attempts", "type", type,
                    "outcome", outcome.error() == null ? "SUCCEEDED" : outcome.error().code()));
            if (!events.sendAndWait(outcome)) {
                return AcknowledgeType.RELEASE;
            }
            completed.incrementAndGet();
            return AcknowledgeType.ACCEPT;
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** The job types this worker runs. */
    java.util.List<String> types() {
        return handlers.types();
    }

    /** Jobs running now. */
    public int inFlight() {
        return inFlight.get();
    }

    /** Attempts whose outcome this worker reported. */
    public long completed() {
        return completed.get();
    }

    private JobFinished execute(JobDispatch job, int attempt) {
        var handler = handlers.find(job.type()).orElse(null);
        if (handler == null) {
            return failed(job, attempt, new JobError(JobError.NO_HANDLER,
                    "no handler for job type '" + job.type() + "' on worker " + properties.id()
                            + " (it runs " + handlers.types() + ")", false), null);
        }
        var deadline = clock.instant().plusSeconds(job.timeoutSeconds());
        var context = new JobContext(job.jobId(), job.type(), job.queue(), attempt, job.maxAttempts(),
                job.payload(), deadline);
        var result = new CompletableFuture<JsonNode>();
        var thread = Thread.ofVirtual().name("job-" + job.jobId()).start(() -> call(handler, context, result));
        try {
            var value = result.get(Duration.between(clock.instant(), deadline).toMillis(), TimeUnit.MILLISECONDS);
            return succeeded(job, attempt, value);
        } catch (TimeoutException e) {
            thread.interrupt();
            return failed(job, attempt, new JobError(JobError.TIMEOUT,
                    "attempt " + attempt + " ran longer than timeoutSeconds=" + job.timeoutSeconds(), true), null);
        } catch (ExecutionException e) {
            return failure(job, attempt, e.getCause());
        } catch (InterruptedException e) {
            // The worker is stopping: the handler is interrupted too, and the record goes back to Kafka.
            thread.interrupt();
            Thread.currentThread().interrupt();
            return failed(job, attempt, new JobError(JobError.WORKER_LOST, "the worker stopped", true), null);
        }
    }

    private static void call(JobHandler handler, JobContext context, CompletableFuture<JsonNode> result) {
        try {
            result.complete(handler.handle(context));
        } catch (Throwable t) {
            result.completeExceptionally(t);
        }
    }

    private JobFinished succeeded(JobDispatch job, int attempt, JsonNode value) {
        var size = Json.writeBytes(value).length;
        if (size > properties.maxResultBytes()) {
            return failed(job, attempt, new JobError(JobError.RESULT_TOO_LARGE, "the result is " + size
                    + " bytes encoded; at most " + properties.maxResultBytes() + " are allowed", false), null);
        }
        return JobFinished.succeeded(job, attempt, properties.id(), value, clock.instant());
    }

    private JobFinished failure(JobDispatch job, int attempt, Throwable cause) {
        if (cause instanceof JobFailure failure) {
            var retryAfter = failure.retryAfter() == null ? null : failure.retryAfter().toMillis();
            return failed(job, attempt, new JobError(failure.code(), failure.getMessage(), failure.retryable()),
                    retryAfter);
        }
        var message = cause.getMessage() == null ? cause.getClass().getName() : cause.getMessage();
        return failed(job, attempt, new JobError(JobError.HANDLER_ERROR, message, true), null);
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
