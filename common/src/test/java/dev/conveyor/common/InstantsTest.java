package dev.conveyor.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.common.message.JobStarted;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.DatabindException;

class InstantsTest {

    private static final long YEAR_10000 = Instant.parse("+10000-01-01T00:00:00Z").getEpochSecond();

    @Test
    void writesAndReadsWhatInstantWritesAndReads() {
        var random = new SplittableRandom(8);
        for (int i = 0; i < 200_000; i++) {
            long seconds = random.nextLong(-YEAR_10000, 2 * YEAR_10000);
            int nanos = switch (i % 4) {
                case 0 -> 0;
                case 1 -> random.nextInt(1000) * 1_000_000;
                case 2 -> random.nextInt(1_000_000) * 1_000;
                default -> random.nextInt(1_000_000_000);
            };
            var instant = Instant.ofEpochSecond(seconds, nanos);
            var text = Instants.format(instant);
            assertThat(text).isEqualTo(instant.toString());
            if (instant.getEpochSecond() >= 0 && instant.getEpochSecond() < YEAR_10000) {
                assertThat(Instants.parseCanonical(text)).isEqualTo(instant);
            } else {
                assertThat(Instants.parseCanonical(text)).isNull();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000000001Z", "2024-02-29T23:59:59.999999999Z",
            "2000-02-29T12:00:00.5Z", "2026-12-05T02:46:48.12Z", "2026-12-31T23:59:59.1234Z", "9999-12-31T23:59:59Z"})
    void readsTheCanonicalShapeItself(String text) {
        assertThat(Instants.parseCanonical(text)).isEqualTo(Instant.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"2026-12-05t02:46:48z", "2026-12-05T02:46:48+00:00", "2026-12-05T03:46:48+01:00",
            "1969-12-31T23:59:59Z", "+12026-12-05T02:46:48Z", "2026-12-05T23:59:60Z", "2026-12-05T24:00:00Z",
            "2026-12-05T02:46Z", "2026-12-05T02:46:48.Z"})
    void leavesOtherShapesToTheFormatter(String text) {
        assertThat(Instants.parseCanonical(text)).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
            "2026-04-31T00:00:00Z", "2026-12-05T02:60:00Z", "2026-12-05T02:46:48.1234567890Z",
            "2026-12-05T02:46:48,5Z", "2026-12-05T02:46:4xZ", "２026-12-05T02:46:48Z", "2026-12-05T02:46:48\u0000Z", ""})
    void refusesWhatInstantRefuses(String text) {
        assertThat(Instants.parseCanonical(text)).isNull();
        assertThatThrownBy(() -> Instant.parse(text)).isInstanceOf(DateTimeParseException.class);
    }

    @Test
    void theKafkaCodecReadsEveryShapeItReadBefore() {
        var jobId = UUID.randomUUID();
        var prefix = "{\"event\":\"started\",\"v\":1,\"jobId\":\"" + jobId + "\",\"attempt\":1,\"workerId\":\"w\",\"at\":";
        var at = Instant.parse("2026-12-05T02:46:48.123456Z");
        var started = new JobStarted(1, jobId, 1, 0, "w", at);

        assertThat(Json.write(started)).contains("\"at\":\"2026-12-05T02:46:48.123456Z\"");
        assertThat(Json.read(Json.write(started), JobStarted.class)).isEqualTo(started);
        assertThat(Json.read(prefix + "\"2026-12-05T03:46:48.123456+01:00\"}", JobStarted.class).at()).isEqualTo(at);
        assertThat(Json.read(prefix + "\"2026-12-05t02:46:48.123456z\"}", JobStarted.class).at()).isEqualTo(at);
        assertThat(Json.read(prefix + at.getEpochSecond() + ".123456}", JobStarted.class).at()).isEqualTo(at);
        assertThat(Json.read(prefix + "null}", JobStarted.class).at()).isNull();
        assertThatThrownBy(() -> Json.read(prefix + "\"2026-02-30T00:00:00Z\"}", JobStarted.class))
                .isInstanceOf(DatabindException.class);
    }
}
