package dev.conveyor.api.manage;

import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import dev.conveyor.common.message.CancelJob;
import java.time.Clock;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

/** Tells every worker about a cancellation, on {@code conveyor.control}. */
@Component
class ControlPublisher {

    private static final Logger log = LoggerFactory.getLogger(ControlPublisher.class);

    private final KafkaTemplate<String, String> kafka;
    private final Clock clock;

    ControlPublisher(KafkaTemplate<String, String> kafka, Clock clock) {
        this.kafka = kafka;
        this.clock = clock;
    }

    /**
     * Waits until Kafka has it, so that a cancel answered 202 reaches the workers. When Kafka cannot be reached the
     * job stays cancelled in the store (its events are ignored), and a running attempt ends as it would have, with
     * no further attempt.
     */
    void cancel(UUID jobId, int generation) {
        var message = new CancelJob(CancelJob.VERSION, jobId, generation, clock.instant());
        try {
            kafka.send(Topics.CONTROL, jobId.toString(), Json.write(message)).get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("Could not tell the workers that job {} is cancelled: {}", jobId, e.getMessage());
        }
    }
}
