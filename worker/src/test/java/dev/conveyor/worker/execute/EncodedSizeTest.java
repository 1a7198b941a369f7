package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.conveyor.common.Json;
import org.junit.jupiter.api.Test;

/** A result's size is learnt without keeping its encoding, and the encoding stops soon after the limit. */
class EncodedSizeTest {

    @Test
    void stopsTheEncodingSoonAfterTheLimit() {
        var size = new EncodedSize(1024);

        var stopped = catchThrowable(() -> Json.MAPPER.writeValue(size,
                Json.object().put("a", "x".repeat(10_000_000)).put("b", "y".repeat(10_000_000))));

        assertThat(EncodedSize.stopped(stopped)).isTrue();
        assertThat(size.isOver()).isTrue();
        assertThat(size.bytes()).isLessThan(1024 + 64 * 1024);
    }

    @Test
    void countsAResultWithinTheLimitExactly() {
        var result = Json.object().put("text", "héllo 👋").put("n", 42);
        var size = new EncodedSize(1024);

        Json.MAPPER.writeValue(size, result);

        assertThat(size.isOver()).isFalse();
        assertThat(size.bytes()).isEqualTo(Json.writeBytes(result).length);
    }
}
