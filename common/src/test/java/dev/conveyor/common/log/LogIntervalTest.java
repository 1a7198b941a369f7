package dev.conveyor.common.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LogIntervalTest {

    private final AtomicLong now = new AtomicLong(-5_000_000_000L); // nanoTime may be negative
    private final LogInterval lines = new LogInterval(Duration.ofSeconds(10), now::get);

    @Test
    void theFirstLinePassesThenOnePerIntervalWithTheCountHeldBack() {
        var passed = new ArrayList<Long>();
        for (var second = 0; second <= 25; second++) {
            var verdict = lines.pass();
            if (verdict >= 0) {
                passed.add(verdict);
            }
            now.addAndGet(1_000_000_000L);
        }

        // at 0 s, 10 s (9 held back: 1..9 s) and 20 s (9 more)
        assertThat(passed).containsExactly(0L, 9L, 9L);
    }

    @Test
    void aLineAfterALongQuietPassesAtOnce() {
        assertThat(lines.pass()).isZero();
        assertThat(lines.pass()).isEqualTo(-1);
        now.addAndGet(Duration.ofHours(1).toNanos());

        assertThat(lines.pass()).isEqualTo(1);
    }

    @Test
    void saysHowManyWereHeldBack() {
        assertThat(LogInterval.heldBack(0)).isEmpty();
        assertThat(LogInterval.heldBack(3)).isEqualTo(" (and 3 more like it since the last such line)");
    }
}
