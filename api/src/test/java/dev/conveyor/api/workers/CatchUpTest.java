package dev.conveyor.api.workers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.test.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** When a reader of a busy topic counts as caught up, and as of when. */
class CatchUpTest {

    private static final TopicPartition PARTITION = new TopicPartition("conveyor.workers", 0);
    private static final List<TopicPartition> PARTITIONS = List.of(PARTITION);

    private final TestClock clock = new TestClock();
    private final MockConsumer<String, String> consumer = new MockConsumer<>("earliest");
    private final CatchUp catchUp = new CatchUp(clock, Duration.ZERO, Duration.ofSeconds(3));
    private long appended;

    @BeforeEach
    void assign() {
        consumer.assign(PARTITIONS);
        consumer.updateBeginningOffsets(Map.of(PARTITION, 0L));
        consumer.updateEndOffsets(Map.of(PARTITION, 0L));
    }

    /** A heartbeat lands on the partition. */
    private void append() {
        consumer.addRecord(new ConsumerRecord<>(PARTITION.topic(), PARTITION.partition(), appended++, "w", "{}"));
        consumer.updateEndOffsets(Map.of(PARTITION, appended));
    }

    @Test
    void aQuietTopicReadToItsEndIsCaughtUpAsOfTheCheck() {
        append();
        consumer.poll(Duration.ZERO);

        assertThat(catchUp.check(consumer, PARTITIONS)).hasValue(clock.instant());
    }

    @Test
    void aReaderBehindTheEndIsNotCaughtUp() {
        append();
        append();

        assertThat(catchUp.check(consumer, PARTITIONS)).isEmpty();
    }

    @Test
    void aRecordAppendedAfterEachPollDoesNotHideThatTheReaderKeepsUp() {
        var caughtUp = new java.util.ArrayList<Instant>();
        append();
        for (var round = 0; round < 20; round++) {
            catchUp.check(consumer, PARTITIONS).ifPresent(caughtUp::add);
            consumer.poll(Duration.ZERO);
            // a heartbeat from another worker arrives between this poll and the next check, every time
            append();
            clock.advance(Duration.ofMillis(500));
        }

        assertThat(caughtUp).as("caught up as of each check whose ends a later poll reached").hasSizeGreaterThan(8);
        assertThat(caughtUp.getLast()).isAfterOrEqualTo(clock.instant().minusSeconds(2));
    }

    @Test
    void positionsThatNeverReachTheEndsAreNeverCaughtUp() {
        append();
        for (var round = 0; round < 20; round++) {
            // the reader gets nothing (Kafka unreachable for it) while the topic grows
            append();
            assertThat(catchUp.check(consumer, PARTITIONS)).isEmpty();
            clock.advance(Duration.ofMillis(500));
        }
    }

    @Test
    void anUnreachableBrokerIsNotCaughtUp() {
        consumer.setOffsetsException(new org.apache.kafka.common.errors.TimeoutException("no broker"));

        assertThat(catchUp.check(consumer, PARTITIONS)).isEqualTo(Optional.empty());
    }
}
