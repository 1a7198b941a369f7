package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.conveyor.common.Json;
import dev.conveyor.common.test.CapturedLines;
import dev.conveyor.worker.HttpSettings;
import dev.conveyor.worker.SqlSettings;
import dev.conveyor.worker.WorkerProperties;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Which delivery of a record a worker takes for its last: what Kafka says, weighed against share-delivery-limit. A
 * limit higher than Kafka's lets a record be released on its last delivery and archived, its attempt counted lost.
 */
class DeliveryLimitsTest {

    private final CapturedLines lines = CapturedLines.start(DeliveryLimits.class);

    @AfterEach
    void stopListening() {
        lines.close();
    }

    private static WorkerProperties settings(Integer shareDeliveryLimit, String... queues) {
        return new WorkerProperties("w", List.of(queues), 1, 10, 1024, Duration.ZERO, 10, null, 1, (short) 1,
                Duration.ZERO, Duration.ofSeconds(1), Duration.ZERO, Map.of(), shareDeliveryLimit,
                HttpSettings.defaults(), SqlSettings.off());
    }

    private static DeliveryLimits.Source says(Map<String, Integer> byGroup, String problem) {
        return groups -> new DeliveryLimits.Read(byGroup, problem);
    }

    private List<String> warnings() {
        return lines.lines().stream().filter(line -> line.getLevel() == Level.WARN)
                .map(line -> line.getFormattedMessage()).toList();
    }

    @Nested
    class WhenUnset {

        @Test
        void followsKafkaSilently() {
            var limits = new DeliveryLimits(settings(null, "a", "b"), says(Map.of("conveyor.a", 3, "conveyor.b", 7),
                    null));

            assertThat(limits.of("a")).isEqualTo(3);
            assertThat(limits.of("b")).isEqualTo(7);
            assertThat(lines.lines()).isEmpty();
        }

        @Test
        void assumesKafkasDefaultWithOneWarningWhenKafkaCannotBeRead() {
            var limits = new DeliveryLimits(settings(null, "a", "b"), says(Map.of(),
                    "broker 1: ClusterAuthorizationException"));

            assertThat(limits.of("a")).isEqualTo(5);
            assertThat(limits.of("b")).isEqualTo(5);
            assertThat(warnings()).singleElement().asString().contains("assuming Kafka's default, 5")
                    .contains("ClusterAuthorizationException").contains("conveyor.worker.share-delivery-limit")
                    .contains("[a, b]");
        }
    }

    @Nested
    class WhenSet {

        @Test
        void isKeptSilentlyWhenKafkaAgreesOrCannotBeRead() {
            assertThat(new DeliveryLimits(settings(4, "a"), says(Map.of("conveyor.a", 4), null)).of("a"))
                    .isEqualTo(4);
            assertThat(new DeliveryLimits(settings(4, "a"), says(Map.of(), "no answer in time")).of("a"))
                    .isEqualTo(4);
            assertThat(lines.lines()).isEmpty();
        }

        @Test
        void yieldsToALowerLimitOfKafkasWithAWarningNamingBoth() {
            var limits = new DeliveryLimits(settings(5, "a"), says(Map.of("conveyor.a", 3), null));

            assertThat(limits.of("a")).isEqualTo(3);
            assertThat(warnings()).singleElement().asString().contains("share-delivery-limit is 5")
                    .contains("only 3 deliveries").contains("using 3");
        }

        @Test
        void winsOverAHigherLimitOfKafkasWithAWarningNamingBoth() {
            var limits = new DeliveryLimits(settings(3, "a", "b"), says(Map.of("conveyor.a", 8, "conveyor.b", 8),
                    null));

            assertThat(limits.of("a")).isEqualTo(3);
            assertThat(warnings()).singleElement().asString().contains("share-delivery-limit is 3")
                    .contains("allows a record 8 deliveries").contains("using 3").contains("[a, b]");
        }
    }

    /**
     * A limit changed on Kafka while the worker runs (a share group's own, Kafka 4.3 and later): read at the start
     * only, a limit lowered from 5 to 3 let the worker release records on what was their last delivery, archived
     * unstarted and counted as lost, until it was restarted.
     */
    @Nested
    class ReadAgain {

        private final AtomicReference<DeliveryLimits.Read> kafka = new AtomicReference<>(
                new DeliveryLimits.Read(Map.of("conveyor.a", 5, "conveyor.b", 5), null));

        @Test
        void followsAChangeOnKafkaWithOneLine() {
            var limits = new DeliveryLimits(settings(null, "a", "b"), groups -> kafka.get());

            kafka.set(new DeliveryLimits.Read(Map.of("conveyor.a", 3, "conveyor.b", 5), null));
            limits.readAgain();
            limits.readAgain();

            assertThat(limits.of("a")).isEqualTo(3);
            assertThat(limits.isLast(delivery("conveyor.jobs.a", 3))).isTrue();
            assertThat(limits.of("b")).isEqualTo(5);
            assertThat(warnings()).singleElement().asString().contains("queue a 3 deliveries").contains("(was 5)");
        }

        @Test
        void keepsTheLimitItHasWhenKafkaCannotBeRead() {
            var limits = new DeliveryLimits(settings(null, "a", "b"), groups -> kafka.get());
            kafka.set(new DeliveryLimits.Read(Map.of(), "timed out"));

            limits.readAgain();

            assertThat(limits.of("a")).isEqualTo(5);
            assertThat(lines.lines()).isEmpty();
        }

        @Test
        void keepsALowerSettingAndFollowsKafkaBelowIt() {
            var limits = new DeliveryLimits(settings(3, "a"), groups -> kafka.get());
            assertThat(warnings()).as("the setting below Kafka's, at the start").hasSize(1);

            kafka.set(new DeliveryLimits.Read(Map.of("conveyor.a", 4), null));
            limits.readAgain();
            assertThat(limits.of("a")).isEqualTo(3);
            assertThat(warnings()).hasSize(1);

            kafka.set(new DeliveryLimits.Read(Map.of("conveyor.a", 2), null));
            limits.readAgain();
            assertThat(limits.of("a")).isEqualTo(2);
            assertThat(warnings()).hasSize(2).last().asString().contains("queue a 2 deliveries").contains("(was 3)");
        }
    }

    @Test
    void takesTheDeliveryAtTheLimitOfItsOwnQueueForTheLast() {
        var limits = new DeliveryLimits(settings(null, "a", "b"), says(Map.of("conveyor.a", 2, "conveyor.b", 6),
                null));

        assertThat(limits.isLast(delivery("conveyor.jobs.a", 1))).isFalse();
        assertThat(limits.isLast(delivery("conveyor.jobs.a", 2))).isTrue();
        assertThat(limits.isLast(delivery("conveyor.jobs.b", 5))).isFalse();
        assertThat(limits.isLast(delivery("conveyor.jobs.b", 6))).isTrue();
    }

    private static ConsumerRecord<String, String> delivery(String topic, int count) {
        return new ConsumerRecord<>(topic, 0, 0, 0L, TimestampType.CREATE_TIME, 36, 2, "k", Json.write(Json.object()),
                new RecordHeaders(), Optional.empty(), Optional.of((short) count));
    }
}
