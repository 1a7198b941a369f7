package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A record waits for its type's limit (unacknowledged, holding its consumer's next poll back) for at most
 * {@code max-start-wait}, and never past its acquisition lock on Kafka, less a margin for its acknowledgement: a
 * lock shorter than {@code max-start-wait} (the broker's {@code group.share.record.lock.duration.ms}) handed the
 * record to another worker while this one still waited, and then both ran the job.
 */
class RecordLockTest {

    private final PermitWaitTest.Holding holding = new PermitWaitTest.Holding();
    private final RunnerTesting testing = new RunnerTesting(List.of(holding), Map.of("limited", 1),
            Duration.ofMillis(100), Duration.ofSeconds(10));
    private final QueueConsumersTest.FakeConsumer consumer = new QueueConsumersTest.FakeConsumer();
    private final QueueConsumer queueConsumer = new QueueConsumer(Topics.jobs("supervised"), consumer,
            testing.runner, 100, Long.MAX_VALUE);
    private final Thread polling = Thread.ofPlatform().name("test-consumer").start(queueConsumer);

    @AfterEach
    void stop() throws InterruptedException {
        holding.let();
        queueConsumer.stop();
        polling.join(Duration.ofSeconds(10));
    }

    private void offer(String key) {
        var job = RunnerTesting.dispatch("limited", Json.object(), 60);
        consumer.offer(key, Json.write(job));
    }

    @Test
    void aRecordOverItsTypesLimitIsTakenBeforeItsLockOnKafkaEnds() {
        consumer.lockMs = Optional.of(3_000);
        await().atMost(Duration.ofSeconds(10)).until(() -> consumer.subscription().contains(
                Topics.jobs("supervised")));
        offer("first");
        await().atMost(Duration.ofSeconds(5)).until(() -> holding.deadlines.size() == 1);

        offer("waiting");
        var offered = System.nanoTime();

        await().atMost(Duration.ofSeconds(15)).until(() -> consumer.acknowledged.size() == 2);
        var waited = Duration.ofNanos(System.nanoTime() - offered);
        assertThat(consumer.acknowledged).containsExactly(AcknowledgeType.ACCEPT, AcknowledgeType.ACCEPT);
        // 3 s of lock, less the margin (at least 1 s) for the acknowledgement's commit; max-start-wait is 10 s
        assertThat(waited).isBetween(Duration.ofMillis(1_500), Duration.ofMillis(2_800));
        assertThat(holding.deadlines).hasSize(1);
    }

    @Test
    void aRecordWithoutAKnownLockWaitsUpToMaxStartWaitAsBefore() {
        await().atMost(Duration.ofSeconds(10)).until(() -> consumer.subscription().contains(
                Topics.jobs("supervised")));
        offer("first");
        await().atMost(Duration.ofSeconds(5)).until(() -> holding.deadlines.size() == 1);

        offer("waiting");

        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
                .until(() -> consumer.acknowledged.size() == 1);
    }
}
