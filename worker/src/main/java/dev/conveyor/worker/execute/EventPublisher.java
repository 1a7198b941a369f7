package dev.conveyor.worker.execute;

import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import dev.conveyor.common.message.JobEvent;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

/** Sends job events to the api, keyed by job id so that one job's events stay in order. */
@Component
class EventPublisher {

    private static final Logger log = LoggerFactory.getLogger(EventPublisher.class);
    private static final int SEND_TRIES = 3;

    private final KafkaTemplate<String, String> kafka;

    EventPublisher(KafkaTemplate<String, String> kafka) {
        this.kafka = kafka;
    }

    /** Sends without waiting: a lost start is harmless, the end of the same attempt carries the outcome. */
    void send(JobEvent event) {
        kafka.send(Topics.EVENTS, event.jobId().toString(), Json.write(event)).whenComplete((sent, failure) -> {
            if (failure != null) {
                log.warn("Could not send {} of job {}: {}", event.getClass().getSimpleName(), event.jobId(),
                        failure.getMessage());
            }
        });
    }

    /**
     * Sends and waits until Kafka has it; false when it could not, so the record is not acknowledged.
     *
     * @throws TooLarge when Kafka refuses the event for its size, which no further try can change
     */
    boolean sendAndWait(JobEvent event) {
        var json = Json.write(event);
        for (var attempt = 1; attempt <= SEND_TRIES; attempt++) {
            try {
                kafka.send(Topics.EVENTS, event.jobId().toString(), json).get(30, TimeUnit.SECONDS);
                return true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                if (tooLarge(e)) {
                    throw new TooLarge(json.length() + " characters encoded; Kafka refused it: " + e.getMessage());
                }
                log.warn("Could not send the outcome of job {} (try {} of {}): {}", event.jobId(), attempt,
                        SEND_TRIES, e.getMessage());
            }
        }
        return false;
    }

    private static boolean tooLarge(Throwable error) {
        for (var cause = error; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof RecordTooLargeException) {
                return true;
            }
        }
        return false;
    }

    /** Kafka will not take the event: it is larger than the producer's or the broker's limit. */
    static final class TooLarge extends RuntimeException {

        TooLarge(String message) {
            super(message);
        }
    }
}
