package dev.conveyor.common.message;

import java.time.Instant;
import java.util.List;

/** A worker's periodic sign of life on {@code conveyor.workers}, keyed by worker id. */
public record WorkerHeartbeat(
        int v,
        String workerId,
        List<String> queues,
        List<String> types,
        int inFlight,
        long completed,
        Instant startedAt,
        Instant at) {

    public static final int VERSION = 1;
}
