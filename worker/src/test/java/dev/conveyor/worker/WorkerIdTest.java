package dev.conveyor.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The api keeps a worker's id with each attempt it runs, cut to 255 characters, and matches heartbeats to it: a
 * longer id (or one with a control character, which it replaces) never matched, and every attempt of that live worker
 * was rescued as a dead worker's, five seconds in.
 */
class WorkerIdTest {

    @Test
    void anIdTheApiWouldCutOrChangeStopsTheWorkerAtStartNamingTheProperty() {
        assertThatIllegalArgumentException().isThrownBy(() -> withId("w".repeat(256)))
                .withMessageContaining("conveyor.worker.id");
        assertThatIllegalArgumentException().isThrownBy(() -> withId("w\u00001"))
                .withMessageContaining("conveyor.worker.id");
        assertThat(withId("w".repeat(255)).id()).hasSize(255);
    }

    @Test
    void theDefaultIdFitsWhateverTheHostName() {
        assertThat(withId(null).id()).startsWith("worker-").contains("@").hasSizeLessThanOrEqualTo(255);
    }

    private static WorkerProperties withId(String id) {
        return new WorkerProperties(id, List.of("default"), 1, 10, 1024, Duration.ZERO, 10, null, 1, (short) 1,
                Duration.ZERO, Duration.ofSeconds(1), Duration.ofMillis(100), Map.of(), 5, HttpSettings.defaults(),
                SqlSettings.off());
    }
}
