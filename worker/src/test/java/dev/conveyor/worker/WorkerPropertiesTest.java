package dev.conveyor.worker;

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
    void aQueueNamedTwiceIsRefused() {
        // each name got its own consumers under the same client ids, twice as many as consumers-per-queue
        assertThatIllegalArgumentException()
                .isThrownBy(() -> with(List.of("default", "emails", "default"), Duration.ofSeconds(1)))
                .withMessageContaining("conveyor.worker.queues").withMessageContaining("'default'")
                .withMessageContaining("twice");
    }

    private static WorkerProperties with(List<String> queues, Duration heartbeatInterval) {
        return new WorkerProperties("w", queues, 1, 10, 1024, Duration.ZERO, 10, 1, (short) 1, Duration.ZERO,
                heartbeatInterval, Duration.ZERO, Map.of(), HttpSettings.defaults(), SqlSettings.off());
    }
}
