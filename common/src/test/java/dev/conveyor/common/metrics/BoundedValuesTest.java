package dev.conveyor.common.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BoundedValuesTest {

    @Test
    void passesTheFirstValuesAndFoldsTheRestIntoOther() {
        var values = new BoundedValues(2);
        assertThat(values.of("a")).isEqualTo("a");
        assertThat(values.of("b")).isEqualTo("b");
        assertThat(values.of("c")).isEqualTo(BoundedValues.OTHER);
        assertThat(values.of("a")).as("a value seen before stays itself").isEqualTo("a");
        assertThat(values.of(null)).isEqualTo("none");
    }

    @Test
    void makesEachPairsValueOnceAndFindsItAfterwards() {
        var made = new AtomicInteger();
        var cache = new PairCache<String>((first, second) -> first + "/" + second + "#" + made.incrementAndGet());
        assertThat(cache.get("q", "t")).isEqualTo("q/t#1");
        assertThat(cache.get("q", "t")).isSameAs(cache.get("q", "t"));
        assertThat(cache.get("q", "u")).isEqualTo("q/u#2");
        assertThat(cache.get("r", "t")).isEqualTo("r/t#3");
        assertThat(made).hasValue(3);
    }
}
