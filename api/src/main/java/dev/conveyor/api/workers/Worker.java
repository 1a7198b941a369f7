package dev.conveyor.api.workers;

import java.time.Instant;
import java.util.List;

/** A live worker as {@code GET /v1/workers} shows it. */
record Worker(
        String id,
        List<String> queues,
        List<String> types,
        int inFlight,
        long completed,
        Instant startedAt,
        Instant lastSeenAt) {
}
