package dev.conveyor.local.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class PacedSubmitsTest {

    @Test
    void theWallClockPlacesAnInstantOnTheLoopsClock() {
        var clock = new PacedSubmits.WallClock(1_000_000_000_000L);

        // nanoTime 5 ms is the epoch's 1,000.005 s; the api recorded the outcome at 1,000.007 s
        assertThat(clock.millisBetween(5_000_000L, Instant.ofEpochSecond(1000, 7_000_000))).isCloseTo(2.0, within(1e-9));
        // an instant before the planned submit (clocks apart) shows as negative, not hidden
        assertThat(clock.millisBetween(5_000_000L, Instant.ofEpochSecond(1000, 4_500_000))).isCloseTo(-0.5, within(1e-9));
    }

    @Test
    void theWallClockNowAgreesWithInstantNow() {
        var clock = PacedSubmits.WallClock.now();

        var between = clock.millisBetween(System.nanoTime(), Instant.now());

        assertThat(between).isBetween(-50.0, 50.0);
    }

    @Test
    void theSplitNamesEachStepsMedianAndP99() {
        var outcome = new PacedSubmits.Outcome(0, 1, new double[] {9.8, 9.8}, new double[] {144, 696},
                new double[] {190, 738}, 0, null);

        assertThat(outcome.split()).isEqualTo("p50 / p99 ms from the planned submit: 202 9.80 / 9.80, outcome recorded"
                + " 144 / 696, readable 190 / 738");
    }

    @Test
    void theSplitLeavesOutTheRecordedOutcomeWhenTheAnswersCarriedNone() {
        var outcome = new PacedSubmits.Outcome(0, 1, new double[] {1.5}, new double[] {Double.NaN},
                new double[] {9.25}, 0, null);

        assertThat(outcome.split()).isEqualTo("p50 / p99 ms from the planned submit: 202 1.50 / 1.50, readable 9.25"
                + " / 9.25");
    }

    @Test
    void anOutcomeWithFailedJobsFailsItsCheckNamingOne() {
        var outcome = new PacedSubmits.Outcome(0, 1, new double[2], new double[2], new double[2], 1, "{\"status\":\"FAILED\"}");

        assertThatThrownBy(() -> outcome.checked("W3: ")).isInstanceOf(IllegalStateException.class)
                .hasMessage("W3: 1 of 2 jobs did not succeed, e.g. {\"status\":\"FAILED\"}");
        assertThat(new PacedSubmits.Outcome(0, 2_000_000_000L, new double[2], new double[2], new double[2], 0, null)
                .checked("W3: ").seconds()).isEqualTo(2.0);
    }
}
