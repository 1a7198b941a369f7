package dev.conveyor.local.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class FloorRunTest {

    @Test
    void countsEachJobOnceFromItsIdAndIgnoresOtherRuns() throws Exception {
        var run = new FloorRun(3);
        var other = new FloorRun(3);
        for (var job = 0; job < 3; job++) {
            run.submitted(job, 1_000_000L);
        }

        run.ended(List.of(run.id(0), run.id(2), other.id(1)), 3_000_000L);
        run.ended(List.of(run.id(0), run.id(1)), 5_000_000L);
        run.awaitAll(Duration.ofSeconds(1));

        assertThat(run.latencies()).containsExactly(2.0, 4.0, 2.0);
        assertThat(run.lastEnd()).isEqualTo(5_000_000L);
        assertThat(run.id(2).version()).isEqualTo(7);
        assertThat(run.id(2)).isNotEqualTo(other.id(2));
    }

    @Test
    void failsLoudlyWhenThePathFailedOrNoJobEndsInTime() {
        var stalled = new FloorRun(2);
        stalled.ended(List.of(stalled.id(0)), 1L);
        var failed = new FloorRun(2);
        failed.fail(new IllegalStateException("broker gone"));

        assertThatThrownBy(() -> stalled.awaitAll(Duration.ofMillis(50))).hasMessageContaining("1 of 2 ended");
        assertThatThrownBy(() -> failed.awaitAll(Duration.ofSeconds(5))).hasMessageContaining("broker gone");
        assertThat(UUID.fromString(stalled.id(1).toString())).isEqualTo(stalled.id(1));
    }
}
