package dev.conveyor.common.message;

import java.time.Instant;
import java.util.List;

/**
 * A worker's periodic sign of life on {@code conveyor.workers}, keyed by worker id.
 *
 * @param intervalMillis how often the worker sends one ({@code conveyor.worker.heartbeat-interval}), so that the api
 *                       does not take a worker that beats less often than its {@code worker-lost-after} for dead
 *                       between two beats; null from workers before it was sent
 */
public record WorkerHeartbeat(
        int v,
        String workerId,
        List<String> queues,
        List<String> types,
        int inFlight,
        long completed,
        Instant startedAt,
        Instant at,
        Long intervalMillis) {

    public static final int VERSION = 1;

    /** A heartbeat that does not say how often it comes (as a worker before {@code intervalMillis} sent). */
    public WorkerHeartbeat(int v, String workerId, List<String> queues, List<String> types, int inFlight,
            long completed, Instant startedAt, Instant at) {
        this(v, workerId, queues, types, inFlight, completed, startedAt, at, null);
    }
}
