package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** A payload limit that lets in jobs whose record the producer may never send stops the api at start. */
class RecordLimitTest {

    @Test
    void theDefaultPayloadLimitFitsTheProducersDefaultRequestSize() {
        assertThatCode(() -> RecordLimit.check(Map.of(), 262_144)).doesNotThrowAnyException();
    }

    @Test
    void aPayloadLimitRaisedPastTheProducersRequestSizeStopsTheStartSayingWhatToRaise() {
        assertThatThrownBy(() -> RecordLimit.check(Map.of(), 1_048_576))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("conveyor.api.max-payload-bytes (1048576)")
                .hasMessageContaining(RecordLimit.MAX_REQUEST_SIZE + " (1048576)")
                .hasMessageContaining("at least " + RecordLimit.largestRecord(1_048_576));
    }

    @Test
    void aRequestSizeRaisedWithThePayloadLimitIsAccepted() {
        var needed = RecordLimit.largestRecord(2_097_152);
        assertThatCode(() -> RecordLimit.check(Map.of("max.request.size", String.valueOf(needed)), 2_097_152))
                .doesNotThrowAnyException();
        assertThatThrownBy(() -> RecordLimit.check(Map.of("max.request.size", needed - 1), 2_097_152))
                .hasMessageContaining("at least " + needed);
        assertThatThrownBy(() -> RecordLimit.check(Map.of("max.request.size", "lots"), 262_144))
                .hasMessageContaining("must be a number of bytes");
    }
}
