package dev.conveyor.api.queues;

/** One queue in {@code GET /v1/queues}: its jobs by status and how long its oldest QUEUED job has been due. */
public record QueueStats(String name, long scheduled, long queued, long running, long succeeded, long failed,
        long cancelled, double oldestQueuedSeconds) {
}
