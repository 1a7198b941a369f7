package dev.conveyor.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Settings an operator may get wrong stop the worker at start, naming the property, instead of misbehaving later. */
class WorkerPropertiesTest {

    @Test
    void aHeartbeatIntervalUnderAMillisecondIsRefusedNotSpunOn() {
        // the heartbeat thread waits interval.toMillis(): 0 for these, and it sent (or, with heartbeats on their
        // way, skipped) one after another on a core of its own
        for (var interval : List.of(Duration.ofNanos(1), Duration.ofNanos(500_000), Duration.ofMillis(9))) {
            assertThatIllegalArgumentException().as("%s", interval)
                    .isThrownBy(() -> with(List.of("default"), interval))
                    .withMessageContaining("conveyor.worker.heartbeat-interval");
        }
    }

    @Test
    void aHeartbeatIntervalOverAMinuteIsRefused() {
        // the api waits at most three minutes of a worker's silence, however seldom it says it beats
        assertThatIllegalArgumentException().isThrownBy(() -> with(List.of("default"), Duration.ofSeconds(61)))
                .withMessageContaining("conveyor.worker.heartbeat-interval must be from 10ms to 1m");
        assertThat(with(List.of("default"), Duration.ofMinutes(1)).heartbeatInterval()).hasMinutes(1);
    }

    @Test
    void aQueueNamedTwiceIsRefused() {
        // each name got its own consumers under the same client ids, twice as many as consumers-per-queue
        assertThatIllegalArgumentException()
                .isThrownBy(() -> with(List.of("default", "emails", "default"), Duration.ofSeconds(1)))
                .withMessageContaining("conveyor.worker.queues").withMessageContaining("'default'")
                .withMessageContaining("twice");
    }

    @Test
    void moreThanAThousandQueuesAreRefused() {
        // the api keeps no heartbeat listing more: the worker would not be listed, nor its handlers known
        var queues = java.util.stream.IntStream.range(0, 1001).mapToObj(i -> "q" + i).toList();
        assertThatIllegalArgumentException().isThrownBy(() -> with(queues, Duration.ofSeconds(1)))
                .withMessageContaining("conveyor.worker.queues names 1001 queues, more than 1000");
        assertThat(with(queues.subList(0, 1000), Duration.ofSeconds(1)).queues()).hasSize(1000);
    }

    @Test
    void anAllowedHostThatNoRequestsHostCouldEqualIsRefused() {
        // matched against the request's bare host name: these never matched, and every http job failed at run time
        for (var host : List.of("*", "https://api.example.org", "api.example.org:443", "api.example.org/v1", "[::1]",
                "*.", "")) {
            assertThatIllegalArgumentException().as(host).isThrownBy(() -> new HttpSettings(1024, List.of(host),
                    List.of(), Duration.ofSeconds(1), Duration.ofSeconds(1), 1, 1))
                    .withMessageContaining("conveyor.worker.http.allowed-hosts").withMessageContaining("'" + host + "'");
        }
        assertThat(new HttpSettings(1024, List.of("API.example.org", "*.hooks.example.org", "10.0.0.1", "::1"),
                List.of(), Duration.ofSeconds(1), Duration.ofSeconds(1), 1, 1).allowedHosts()).hasSize(4);
    }

    @Test
    void aTypeLimitForNoPossibleTypeIsRefused() {
        // job types match [a-z0-9][a-z0-9._-]{0,99}: a limit under another name never applied, silently
        assertThatIllegalArgumentException().isThrownBy(() -> new WorkerProperties("w", List.of("default"), 1, 10,
                1024, Duration.ZERO, 10, null, 1, (short) 1, Duration.ZERO, Duration.ofSeconds(1), Duration.ZERO,
                Map.of("Send Email", 2), 5, HttpSettings.defaults(), SqlSettings.off()))
                .withMessageContaining("conveyor.worker.type-limits").withMessageContaining("'Send Email'");
    }

    @Test
    void aShareDeliveryLimitKafkaWouldNotHaveIsRefused() {
        for (var limit : List.of(1, 11)) {
            assertThatIllegalArgumentException().as("%d", limit).isThrownBy(() -> new WorkerProperties("w",
                    List.of("default"), 1, 10, 1024, Duration.ZERO, 10, null, 1, (short) 1, Duration.ZERO,
                    Duration.ofSeconds(1), Duration.ZERO, Map.of(), limit, HttpSettings.defaults(), SqlSettings.off()))
                    .withMessageContaining("conveyor.worker.share-delivery-limit");
        }
    }

    @Test
    void anUnsetShareDeliveryLimitIsLeftToKafka() {
        var properties = new WorkerProperties("w", List.of("default"), 1, 10, 1024, Duration.ZERO, 10, null, 1,
                (short) 1, Duration.ZERO, Duration.ofSeconds(1), Duration.ZERO, Map.of(), null,
                HttpSettings.defaults(), SqlSettings.off());

        assertThat(properties.shareDeliveryLimit()).isNull();
    }

    private static WorkerProperties with(List<String> queues, Duration heartbeatInterval) {
        return new WorkerProperties("w", queues, 1, 10, 1024, Duration.ZERO, 10, null, 1, (short) 1, Duration.ZERO,
                heartbeatInterval, Duration.ZERO, Map.of(), 5, HttpSettings.defaults(), SqlSettings.off());
    }
}
