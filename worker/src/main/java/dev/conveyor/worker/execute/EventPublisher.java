package dev.conveyor.worker.execute;

import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import dev.conveyor.common.log.LogInterval;
import dev.conveyor.common.message.JobEvent;
import dev.conveyor.worker.Deadlines;
import dev.conveyor.worker.tracing.JobTracing;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

/** Sends job events to the api, keyed by job id so that one job's events stay in order. */
@Component
class EventPublisher {

    private static final Logger log = LoggerFactory.getLogger(EventPublisher.class);
    private static final int SEND_TRIES = 3;
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);
    private static final Duration WAIT = Duration.ofSeconds(30);

    /** At most one line per this long of each kind below: during an outage every job in flight has one to say. */
    private static final Duration LOG_EVERY = Duration.ofSeconds(10);

    private final KafkaTemplate<String, String> kafka;
    private final JobTracing tracing;
    private final LogInterval unsentEvents = new LogInterval(LOG_EVERY);
    private final LogInterval waitingOutcomes = new LogInterval(LOG_EVERY);

    EventPublisher(KafkaTemplate<String, String> kafka, JobTracing tracing) {
        this.kafka = kafka;
        this.tracing = tracing;
    }

    /** Sends without waiting: a lost start or progress is harmless, the end of the same attempt stands for both. */
    void send(JobEvent event) {
        var record = tracing.event(Topics.EVENTS, event.jobId().toString(), Json.write(event));
        kafka.send(record).whenComplete((sent, failure) -> {
            if (failure != null) {
                var heldBack = unsentEvents.pass();
                if (heldBack >= 0) {
                    log.warn("Could not send {} of job {}: {}{}", event.getClass().getSimpleName(), event.jobId(),
                            reason(failure), LogInterval.heldBack(heldBack));
                }
            }
        });
    }

    /**
     * Sends an attempt's outcome and waits until Kafka has it, trying again (with backoff up to
     * {@link #MAX_BACKOFF}) for as long as Kafka is unreachable, unless {@code givingUp} says to stop: an outcome is
     * the one thing about a job that only this worker knows. Answers whether Kafka has it.
     *
     * @throws TooLarge when Kafka refuses the event for its size, which no further try can change
     * @throws Unencodable when the event cannot be encoded: it is not sent
     */
    boolean sendUntilDelivered(JobEvent event, BooleanSupplier givingUp) {
        var backoff = Duration.ofMillis(200);
        var json = encoded(event);
        for (var tries = 1; ; tries++) {
            // One send at a time: the producer keeps retrying it until its delivery timeout, so waiting on the same
            // send (rather than sending again) puts no copies in its buffer during an outage.
            CompletableFuture<?> sent;
            try {
                sent = kafka.send(tracing.event(Topics.EVENTS, event.jobId().toString(), json));
            } catch (RuntimeException e) {
                sent = CompletableFuture.failedFuture(e);
            }
            while (true) {
                try {
                    if (delivered(sent)) {
                        return true;
                    }
                    if (givingUp.getAsBoolean()) {
                        return false;
                    }
                    var heldBack = waitingOutcomes.pass();
                    if (heldBack >= 0) {
                        log.warn("Kafka has not taken the outcome of job {} yet; still waiting{}", event.jobId(),
                                LogInterval.heldBack(heldBack));
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                } catch (ExecutionException e) {
                    if (tooLarge(e)) {
                        throw new TooLarge(json.length() + " characters encoded; Kafka refused it: "
                                + e.getMessage());
                    }
                    if (givingUp.getAsBoolean()) {
                        // the worker is stopping: its stop counts what did not reach Kafka, rather than a line each
                        log.debug("Kafka did not take the outcome of job {} (try {}): {}", event.jobId(), tries,
                                e.getMessage());
                        return false;
                    }
                    var heldBack = waitingOutcomes.pass();
                    if (heldBack >= 0) {
                        log.warn("Kafka did not take the outcome of job {} (try {}; trying again): {}{}",
                                event.jobId(), tries, reason(e), LogInterval.heldBack(heldBack));
                    }
                    break;
                }
            }
            if (givingUp.getAsBoolean()) {
                return false;
            }
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
    }

    /**
     * Waits for {@code sent} up to {@link #WAIT}: true once Kafka has it, false when the wait passed first. The wait
     * has no timeout of its own: the {@link Deadlines} timer ends it (see there for why).
     *
     * @throws ExecutionException when Kafka did not take it
     */
    private static boolean delivered(CompletableFuture<?> sent) throws InterruptedException, ExecutionException {
        if (!sent.isDone()) {
            var waited = new CompletableFuture<Void>();
            var deadline = Deadlines.after(WAIT.toMillis(), () -> waited.complete(null));
            try {
                sent.whenComplete((result, failure) -> waited.complete(null));
                waited.get();
            } finally {
                deadline.cancel(false);
            }
            if (!sent.isDone()) {
                return false;
            }
        }
        sent.get();
        return true;
    }

    /**
     * Sends and waits until Kafka has it; false when it could not, so the record is not acknowledged.
     *
     * @throws TooLarge when Kafka refuses the event for its size, which no further try can change
     * @throws Unencodable when the event cannot be encoded: it is not sent
     */
    boolean sendAndWait(JobEvent event) {
        var json = encoded(event);
        for (var attempt = 1; attempt <= SEND_TRIES; attempt++) {
            try {
                kafka.send(tracing.event(Topics.EVENTS, event.jobId().toString(), json)).get(30, TimeUnit.SECONDS);
                return true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                if (tooLarge(e)) {
                    throw new TooLarge(json.length() + " characters encoded; Kafka refused it: " + e.getMessage());
                }
                var heldBack = waitingOutcomes.pass();
                if (heldBack >= 0) {
                    log.warn("Could not send the outcome of job {} (try {} of {}): {}{}", event.jobId(), attempt,
                            SEND_TRIES, reason(e), LogInterval.heldBack(heldBack));
                }
            }
        }
        return false;
    }

    /** Why Kafka did not take a record: the innermost cause's message ("Send failed" alone says nothing). */
    private static String reason(Throwable failure) {
        return NestedExceptionUtils.getMostSpecificCause(failure).getMessage();
    }

    private static boolean tooLarge(Throwable error) {
        for (var cause = error; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof RecordTooLargeException) {
                return true;
            }
        }
        return false;
    }

    /**
     * The event as it travels.
     *
     * @throws Unencodable when it cannot be encoded: its result is the handler's own object, which can change (or
     *                     throw) after the worker checked it
     */
    static String encoded(JobEvent event) {
        try {
            return Json.write(event);
        } catch (RuntimeException e) {
            throw new Unencodable("the event could not be encoded: " + JobOutcomes.describe(e), e);
        }
    }

    /** The event cannot be encoded as JSON, which no further try can change. */
    static final class Unencodable extends RuntimeException {

        Unencodable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Kafka will not take the event: it is larger than the producer's or the broker's limit. */
    static final class TooLarge extends RuntimeException {

        TooLarge(String message) {
            super(message);
        }
    }
}
