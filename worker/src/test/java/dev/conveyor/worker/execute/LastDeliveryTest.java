package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import dev.conveyor.common.message.JobDispatch;
import dev.conveyor.common.message.JobError;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A record the worker does not start (no room for it, or the worker is stopping) goes back to Kafka, which archives
 * it once it has been delivered as often as {@code share-delivery-limit} allows. Archived unstarted, its job's attempt
 * was counted as lost by the api, as a dead worker's; on its last delivery the job is handed back instead.
 */
class LastDeliveryTest {

    private final CountDownLatch ends = new CountDownLatch(1);
    private final RunnerTesting testing = new RunnerTesting(new JobHandler() {
        @Override
        public String type() {
            return "t";
        }

        @Override
        public JsonNode handle(JobContext context) throws InterruptedException {
            ends.await();
            return Json.object();
        }
    });

    @AfterEach
    void endJobs() {
        ends.countDown();
    }

    /** A job's first attempt, given back unstarted four times before (the count its hand-back must echo). */
    private static JobDispatch job() {
        return new JobDispatch(JobDispatch.VERSION, UUID.randomUUID(), "t", "default", 1, 3, 30, Json.object(),
                Instant.now(), 0, 4);
    }

    private static ConsumerRecord<String, String> delivery(JobDispatch job, short count) {
        return new ConsumerRecord<>("conveyor.jobs.default", 0, 0, 0L, TimestampType.CREATE_TIME, 36, 100,
                job.jobId().toString(), Json.write(job), new RecordHeaders(), Optional.empty(), Optional.of(count));
    }

    /** Takes a first job that holds more than {@code maxBytes} until the test ends: no room for another. */
    private void fill(long maxBytes) throws InterruptedException {
        var holding = testing.runner.take(delivery(job(), (short) 1), null, maxBytes);
        assertThat(holding.acknowledge()).isEqualTo(AcknowledgeType.ACCEPT);
        Thread.ofVirtual().start(holding.rest());
    }

    @Test
    void aRecordWithoutRoomIsReleasedUntilItsLastDeliveryAndThenHandedBack() throws InterruptedException {
        fill(1);

        var early = job();
        var released = testing.runner.take(delivery(early, (short) 4), null, 1);
        assertThat(released.acknowledge()).isEqualTo(AcknowledgeType.RELEASE);
        assertThat(released.noRoomFor()).isPositive();
        assertThat(testing.events.finished(early.jobId())).isNull();

        var last = job();
        var handedBack = testing.runner.take(delivery(last, (short) 5), null, 1);
        // accepted, so Kafka does not archive it, and reported, so the api runs it again at once
        assertThat(handedBack.acknowledge()).isEqualTo(AcknowledgeType.ACCEPT);
        assertThat(handedBack.rest()).isNull();
        // and its consumer still waits for room before it polls again
        assertThat(handedBack.noRoomFor()).isPositive();
        var outcome = testing.events.finished(last.jobId());
        assertThat(outcome.error().code()).isEqualTo(JobError.WORKER_LOST);
        assertThat(outcome.error().retryable()).isTrue();
        assertThat(outcome.error().message()).contains("no room", "last time", "without running it");
        assertThat(outcome.handBacks()).as("the dispatch it gives back, unstarted").isEqualTo(4);
        assertThat(testing.meters.get("conveyor.worker.records.released").tag("reason", "no_room").counter()
                .count()).as("the early record, released").isEqualTo(1.0);
        assertThat(testing.meters.get("conveyor.worker.jobs.given.back").tag("reason", "no_room").counter()
                .count()).as("the last delivery's job, given back").isEqualTo(1.0);
        assertThat(testing.runner.inFlight()).as("only the first job").isEqualTo(1);
    }

    @Test
    void aStoppingWorkerHandsBackTheRecordsOnTheirLastDelivery() throws InterruptedException {
        testing.runner.drain();

        var early = job();
        assertThat(testing.runner.take(delivery(early, (short) 2), null, Long.MAX_VALUE).acknowledge())
                .isEqualTo(AcknowledgeType.RELEASE);
        assertThat(testing.events.finished(early.jobId())).isNull();

        var last = job();
        assertThat(testing.runner.take(delivery(last, (short) 5), null, Long.MAX_VALUE).acknowledge())
                .isEqualTo(AcknowledgeType.ACCEPT);
        var outcome = testing.events.finished(last.jobId());
        assertThat(outcome.error().code()).isEqualTo(JobError.WORKER_LOST);
        assertThat(outcome.error().message()).contains("was stopping", "without running it");
        assertThat(outcome.handBacks()).as("the dispatch it gives back, unstarted").isEqualTo(4);
        assertThat(testing.meters.get("conveyor.worker.records.released").tag("reason", "stopping").counter()
                .count()).isEqualTo(1.0);
        assertThat(testing.meters.get("conveyor.worker.jobs.given.back").tag("reason", "stopping").counter()
                .count()).isEqualTo(1.0);
    }

    @Test
    void aStoppingWorkerDoesNotWaitForKafkaToTakeAHandBack() throws InterruptedException {
        testing.runner.drain();
        testing.events.refuse = event -> true; // as KafkaTemplate refuses a send once Kafka is unreachable

        // released as before (then archived, and counted as a lost attempt by the api): the stop goes on
        assertThat(testing.runner.take(delivery(job(), (short) 5), null, Long.MAX_VALUE).acknowledge())
                .isEqualTo(AcknowledgeType.RELEASE);
    }

    @Test
    void aRecordKafkaCouldNotBeToldAboutIsReleasedAsBefore() throws InterruptedException {
        fill(1);
        testing.events.refuseOver = 0; // Kafka takes no event: the hand-back cannot be sent

        var last = job();
        var taken = testing.runner.take(delivery(last, (short) 5), null, 1);
        // archived then, and the api's reconciler counts the attempt as lost, as before: nothing is lost outright
        assertThat(taken.acknowledge()).isEqualTo(AcknowledgeType.RELEASE);
    }
}
