package dev.conveyor.common;

/** Names of the Kafka topics and groups that connect the processes. */
public final class Topics {

    /** Prefix of the per-queue job topics: {@code conveyor.jobs.<queue>}. */
    public static final String JOBS_PREFIX = "conveyor.jobs.";
    /** Workers to api: job started, progress, finished. Keyed by job id, so ordered per job. */
    public static final String EVENTS = "conveyor.events";
    /** Api to every worker: cancellations. */
    public static final String CONTROL = "conveyor.control";
    /** Workers to every api: heartbeats, compacted by worker id. */
    public static final String WORKERS = "conveyor.workers";
    /** The consumer group of the api's events consumer. */
    public static final String API_EVENTS_GROUP = "conveyor-api";

    private Topics() {
    }

    /** The topic that carries a queue's jobs. */
    public static String jobs(String queue) {
        return JOBS_PREFIX + queue;
    }

    /** The share group whose members take a queue's jobs. */
    public static String shareGroup(String queue) {
        return "conveyor." + queue;
    }
}
