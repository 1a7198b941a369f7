package dev.conveyor.local.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class RunsTest {

    @Test
    void theWallClockPlacesAnInstantOnTheLoopsClock() {
        var clock = new Runs.WallClock(1_000_000_000_000L);

        // nanoTime 5 ms is the epoch's 1,000.005 s; the api recorded the outcome at 1,000.007 s
        assertThat(clock.millisBetween(5_000_000L, Instant.ofEpochSecond(1000, 7_000_000))).isCloseTo(2.0, within(1e-9));
        // an instant before the planned submit (clocks apart) shows as negative, not hidden
        assertThat(clock.millisBetween(5_000_000L, Instant.ofEpochSecond(1000, 4_500_000))).isCloseTo(-0.5, within(1e-9));
    }

    @Test
    void theWallClockNowAgreesWithInstantNow() {
        var clock = Runs.WallClock.now();

        var between = clock.millisBetween(System.nanoTime(), Instant.now());

        assertThat(between).isBetween(-50.0, 50.0);
    }

    @Test
    void theSplitNamesEachStepsMedianAndP99() {
        var split = Runs.split(new Stats.Latencies(9.8, 100, 252, 400), new Stats.Latencies(144, 500, 696, 800),
                new Stats.Latencies(190, 516, 738, 845));

        assertThat(split).isEqualTo("p50 / p99 ms from the planned submit: 202 9.80 / 252, outcome recorded 144 / 696,"
                + " readable 190 / 738");
    }
}
