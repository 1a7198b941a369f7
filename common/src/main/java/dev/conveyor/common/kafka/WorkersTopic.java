package dev.conveyor.common.kafka;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.config.TopicConfig;

/**
 * The layout of {@code conveyor.workers}. Whichever of the api or a worker starts first creates it, so both take
 * the layout from here; a topic that Kafka auto-created on a worker's first send would not be compacted.
 */
public final class WorkersTopic {

    /** Every api instance reads the whole topic anyway; one partition is plenty for one record per worker. */
    public static final int PARTITIONS = 1;

    /** How long a heartbeat is kept at most: longer than any attempt may run (a day), so longer than needed. */
    public static final Duration RETENTION = Duration.ofDays(1);

    /**
     * Compacted by worker id, so that an api instance starting up reads about one record per worker, not its
     * history. Kafka compacts only closed segments, and by default closes one after a week (a worker beating
     * every 5 s writes 120,000 records a week); hourly segments keep the start-up read short.
     *
     * <p>A worker that dies writes no tombstone, and compaction alone kept its last heartbeat for ever (and every id
     * anyone wrote): each start of an api read them all. So segments older than {@link #RETENTION} are deleted too
     * (a live worker's last heartbeat is never that old), as the broker's clock tells: a worker's clock a day behind
     * had its live heartbeats deleted, and a timestamp written a year ahead kept its segment for a year. (The api
     * takes the record time of a heartbeat read at its start for when the worker was last seen, never later than
     * its own now: the broker's append time says so better than the clock of whoever wrote it.)
     */
    public static final Map<String, String> CONFIGS = Map.of(
            TopicConfig.CLEANUP_POLICY_CONFIG,
            TopicConfig.CLEANUP_POLICY_COMPACT + "," + TopicConfig.CLEANUP_POLICY_DELETE,
            TopicConfig.RETENTION_MS_CONFIG, String.valueOf(RETENTION.toMillis()),
            TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime",
            TopicConfig.SEGMENT_MS_CONFIG, String.valueOf(60 * 60 * 1000));

    private WorkersTopic() {
    }
}
