package dev.conveyor.worker.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Reading {@code Retry-After}: whatever a server sends, a bounded wait or none, never an exception. */
class RetryAfterTest {

    private static final Clock NOW = Clock.fixed(ZonedDateTime.of(2026, 11, 28, 10, 0, 0, 0, ZoneOffset.UTC)
            .toInstant(), ZoneOffset.UTC);

    private static Optional<Duration> parse(String header) {
        return RetryAfter.parse(Optional.ofNullable(header), NOW);
    }

    @Test
    void readsDelaySeconds() {
        assertThat(parse("120")).contains(Duration.ofSeconds(120));
        assertThat(parse(" 0 ")).contains(Duration.ZERO);
    }

    @Test
    void readsAnHttpDate() {
        assertThat(parse("Sat, 28 Nov 2026 10:02:00 GMT")).contains(Duration.ofMinutes(2));
    }

    @ParameterizedTest
    @ValueSource(strings = {"315360000000", "9223372036854775807", "9223372036854775808",
            "99999999999999999999999999999999999999", "3153600001"})
    void clampsHugeDelaysToTheMaximum(String header) {
        assertThat(parse(header)).contains(RetryAfter.MAX);
        assertThat(RetryAfter.MAX).isEqualTo(Duration.ofDays(36_500));
    }

    @ParameterizedTest
    @ValueSource(strings = {"Fri, 31 Dec 9999 23:59:59 GMT", "Wed, 01 Jan 3000 00:00:00 GMT"})
    void clampsFarFutureDatesToTheMaximum(String header) {
        assertThat(parse(header)).contains(RetryAfter.MAX);
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1", "-315360000000", "+5", "1.5", "soon", "", "   ", "0x10", "5 5", "١٢",
            "Mon, 01 Jan 1990 00:00:00 GMT", "Sat, 28 Nov 2026 09:59:59 GMT", "Sat, 99 Nov 2026 10:00:00 GMT",
            "Sat, 28 Nov 2026 10:00:00 GMT\u0000"})
    void ignoresNegativePastAndGarbageValues(String header) {
        assertThat(parse(header)).isEmpty();
    }

    @Test
    void ignoresAnAbsentHeader() {
        assertThat(parse(null)).isEmpty();
    }
}
