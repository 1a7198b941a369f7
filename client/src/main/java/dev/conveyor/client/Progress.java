package dev.conveyor.client;

import java.time.Instant;

/** The last progress a running attempt reported: a fraction from 0 to 1 and an optional message. */
public record Progress(double fraction, String message, Instant at) {
}
