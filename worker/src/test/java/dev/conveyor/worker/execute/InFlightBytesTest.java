package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A worker's jobs hold their payloads until their handlers end, and {@code max-in-flight} counts jobs, not bytes:
 * 3,000 {@code http} jobs, each POSTing a 200 KB body to a host that answered after a minute (payloads well under the
 * api's {@code max-payload-bytes}), took a worker with a 512 MiB heap to {@code OutOfMemoryError} within seconds, and
 * with it its producer's and its consumers' threads, and Kafka then handed its records to the next worker. The
 * consumer now also stops polling while the records of the jobs in flight add up to {@code max-in-flight-bytes}.
 */
class InFlightBytesTest {

    /** A handler that holds each job until {@link #endOne()}. */
    static final class Holding implements JobHandler {

        final Set<UUID> running = ConcurrentHashMap.newKeySet();
        final Semaphore ends = new Semaphore(0);

        @Override
        public String type() {
            return "big";
        }

        @Override
        public JsonNode handle(JobContext context) throws InterruptedException {
            running.add(context.jobId());
            try {
                ends.acquire();
            } finally {
                running.remove(context.jobId());
            }
            return Json.object();
        }

        void endOne() {
            ends.release();
        }
    }

    private final Holding holding = new Holding();
    /** Its records wait no time for room or permits (max-start-wait 0), unless a test sets one. */
    private RunnerTesting testing = new RunnerTesting(List.of(holding), Map.of());
    private final QueueConsumersTest.FakeConsumer consumer = new QueueConsumersTest.FakeConsumer();
    private final String record = record();
    /** What one of these records weighs: its bytes and its payload's tree. */
    private final long recordBytes = weight(record);
    private QueueConsumer queueConsumer;
    private Thread polling;

    private void start(long maxInFlightBytes) {
        queueConsumer = new QueueConsumer(Topics.jobs("supervised"), consumer, testing.runner, 100, maxInFlightBytes);
        polling = Thread.ofPlatform().name("test-consumer").start(queueConsumer);
        await().atMost(Duration.ofSeconds(10)).until(() -> consumer.subscription().contains(Topics.jobs("supervised")));
    }

    private static String record() {
        var payload = Json.object();
        payload.put("body", "x".repeat(100_000));
        return Json.write(RunnerTesting.dispatch("big", payload, 60));
    }

    /** What the runner counts for a record it takes: the record's bytes and its payload's tree, as checked. */
    private static long weight(String record) {
        var checked = DispatchCheck.check(Json.read(record, dev.conveyor.common.message.JobDispatch.class));
        return record.getBytes(StandardCharsets.UTF_8).length + checked.payloadBytes();
    }

    @AfterEach
    void stop() throws InterruptedException {
        holding.ends.release(100);
        if (queueConsumer != null) {
            queueConsumer.stop();
            polling.join(Duration.ofSeconds(10));
        }
    }

    private void offer(String key) {
        offer(key, record);
    }

    private void offer(String key, String record) {
        consumer.offer(key, record.replace(record.substring(record.indexOf("\"jobId\":\"") + 9,
                record.indexOf("\"jobId\":\"") + 45), UUID.randomUUID().toString()));
    }

    @Test
    void theConsumerTakesNoMoreWhileItsJobsHoldMaxInFlightBytesOfRecords() {
        start(3L * recordBytes); // room for three records' bytes, not for a fourth
        for (var n = 1; n <= 3; n++) {
            offer("job-" + n);
            var running = n;
            await().atMost(Duration.ofSeconds(5)).until(() -> holding.running.size() == running);
        }
        assertThat(testing.runner.heldBytes()).isEqualTo(3L * recordBytes);
        assertThat(testing.meters.get("conveyor.worker.in.flight.bytes").gauge().value()).isEqualTo(3.0 * recordBytes);

        offer("job-4");
        // the fourth record stays on Kafka (for other workers) while three jobs hold their records' bytes
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2)).until(() -> holding.running.size() == 3);
        assertThat(consumer.acknowledged).hasSize(3);

        holding.endOne();
        await().atMost(Duration.ofSeconds(5)).until(() -> consumer.acknowledged.size() == 4);
        await().atMost(Duration.ofSeconds(5)).until(() -> holding.running.size() == 3);
        assertThat(testing.runner.heldBytes()).isEqualTo(3L * recordBytes);

        holding.ends.release(3);
        await().atMost(Duration.ofSeconds(5)).until(() -> testing.runner.heldBytes() == 0);
    }

    @Test
    void aRecordLargerThanMaxInFlightBytesIsTakenWhenNothingElseIsHeld() {
        start(recordBytes / 2);
        offer("larger-than-all");
        await().atMost(Duration.ofSeconds(10)).until(() -> holding.running.size() == 1);
        offer("next");
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2)).until(() -> holding.running.size() == 1);
        holding.endOne();
        await().atMost(Duration.ofSeconds(5)).until(() -> consumer.acknowledged.size() == 2);
    }

    /**
     * A payload of many tiny values takes up to thirty times its JSON once read: 60 KB of {@code [{},{},...]} hold
     * about 3 MB. Weighed by their records' bytes alone, 10 MB let 170 such jobs in, 500 MB of trees, and a poll took
     * all of its records whatever they weighed. Now each record is taken while it fits; with no max-start-wait, the
     * rest of the poll is released at once for other workers, and the consumer polls again once a job has ended.
     */
    @Test
    void aPayloadOfTinyValuesWeighsWhatItsTreeHolds() {
        var payload = Json.object();
        var pad = payload.putArray("pad");
        for (var n = 0; n < 20_000; n++) {
            pad.addObject();
        }
        var tiny = Json.write(RunnerTesting.dispatch("big", payload, 60));
        var bytes = tiny.getBytes(StandardCharsets.UTF_8).length;
        var weight = weight(tiny);
        assertThat(weight).as("the weight of a record of %,d bytes", bytes).isGreaterThan(20L * bytes);

        var bound = 10L * 1024 * 1024;
        var fit = (int) (bound / weight);
        start(bound);
        synchronized (consumer) { // one poll
            for (var n = 1; n <= 20; n++) {
                offer("tiny-" + n, tiny);
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> consumer.acknowledged.size() == 20);
        assertThat(holding.running).hasSize(fit);
        assertThat(consumer.acknowledged).containsOnly(org.apache.kafka.clients.consumer.AcknowledgeType.ACCEPT,
                org.apache.kafka.clients.consumer.AcknowledgeType.RELEASE)
                .filteredOn(type -> type == org.apache.kafka.clients.consumer.AcknowledgeType.RELEASE)
                .hasSize(20 - fit);
        assertThat(testing.runner.heldBytes()).isEqualTo(fit * weight);

        // no poll while no job has ended: the record is not taken and released over and over
        offer("next", tiny);
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2))
                .until(() -> consumer.acknowledged.size() == 20);
        holding.endOne();
        await().atMost(Duration.ofSeconds(5)).until(() -> consumer.acknowledged.size() == 21);
        await().atMost(Duration.ofSeconds(5)).until(() -> holding.running.size() == fit);
    }

    /**
     * A record without room goes back to Kafka at once, whatever max-start-wait says: waiting unacknowledged, it would
     * hold back its poll's commit, which a job on a later attempt of the same poll waits for before it runs.
     */
    @Test
    void aRecordWithoutRoomIsReleasedAtOnceAndHoldsNoRetryOfItsPollBack() {
        testing = new RunnerTesting(List.of(holding), Map.of(), Duration.ofMillis(100), Duration.ofSeconds(30));
        start(recordBytes);
        var retry = record.replace("\"attempt\":1,", "\"attempt\":2,");
        assertThat(retry).isNotEqualTo(record);
        synchronized (consumer) {
            offer("retry", retry);
            offer("no-room");
        }
        // whichever of the two its thread took first runs, within seconds, not after max-start-wait
        await().atMost(Duration.ofSeconds(5)).until(() -> holding.running.size() == 1);
        assertThat(consumer.acknowledged).containsExactlyInAnyOrder(
                org.apache.kafka.clients.consumer.AcknowledgeType.ACCEPT,
                org.apache.kafka.clients.consumer.AcknowledgeType.RELEASE);
    }
}
