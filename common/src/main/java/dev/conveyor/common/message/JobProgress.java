package dev.conveyor.common.message;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import java.time.Instant;
import java.util.UUID;

/** A running attempt reported how far it got: {@code fraction} in 0..1 and a short message. */
public record JobProgress(int v, UUID jobId, int attempt, @JsonSetter(nulls = Nulls.AS_EMPTY) int generation,
        double fraction, String message,
        Instant at)
        implements JobEvent {
}
