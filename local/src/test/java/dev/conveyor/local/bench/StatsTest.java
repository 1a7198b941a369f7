package dev.conveyor.local.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class StatsTest {

    @Nested
    class Percentiles {

        @Test
        void useTheNearestRank() {
            var oneToHundred = IntStream.rangeClosed(1, 100).asDoubleStream().toArray();

            var latencies = Stats.Latencies.of(oneToHundred);

            assertThat(latencies).isEqualTo(new Stats.Latencies(50, 95, 99, 100));
        }

        @Test
        void ofOneValueAreThatValue() {
            assertThat(Stats.Latencies.of(new double[] {7.5})).isEqualTo(new Stats.Latencies(7.5, 7.5, 7.5, 7.5));
        }

        @Test
        void doNotDependOnTheOrderOfTheValues() {
            var latencies = Stats.Latencies.of(new double[] {9, 1, 5, 3, 7, 2, 8, 4, 6, 10});

            assertThat(latencies.p50()).isEqualTo(5);
            assertThat(latencies.p95()).isEqualTo(10);
            assertThat(latencies.max()).isEqualTo(10);
        }

        @Test
        void needAtLeastOneValue() {
            assertThatThrownBy(() -> Stats.Latencies.of(new double[0])).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Nested
    class Spreads {

        @Test
        void showTheMedianAndTheRangeOfTheRuns() {
            var spread = Stats.Spread.of(List.of(1_568.0, 636.0, 2_424.0));

            assertThat(spread).isEqualTo(new Stats.Spread(1_568, 636, 2_424));
            assertThat(spread.format()).isEqualTo("1,568 (636-2,424)");
        }

        @Test
        void takeTheMeanOfTheMiddleTwoOfAnEvenNumberOfRuns() {
            assertThat(Stats.Spread.of(List.of(4.0, 1.0, 3.0, 2.0)).median()).isEqualTo(2.5);
        }

        @Test
        void ofOneRunShowOnlyItsValue() {
            assertThat(Stats.Spread.of(List.of(731.0)).format()).isEqualTo("731");
        }
    }

    @Test
    void numbersKeepTwoOrThreeSignificantDigitsBelowAHundred() {
        assertThat(Stats.number(20_000)).isEqualTo("20,000");
        assertThat(Stats.number(1_077.6)).isEqualTo("1,078");
        assertThat(Stats.number(34)).isEqualTo("34");
        assertThat(Stats.number(76.44)).isEqualTo("76.4");
        assertThat(Stats.number(1.6789)).isEqualTo("1.68");
        assertThat(Stats.number(0.2345)).isEqualTo("0.235");
    }
}
