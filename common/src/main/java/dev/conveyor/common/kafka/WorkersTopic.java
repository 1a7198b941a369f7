package dev.conveyor.common.kafka;

import java.util.Map;
import org.apache.kafka.common.config.TopicConfig;

/**
 * The layout of {@code conveyor.workers}. Whichever of the api or a worker starts first creates it, so both take
 * the layout from here; a topic that Kafka auto-created on a worker's first send would not be compacted.
 */
public final class WorkersTopic {

    /** Every api instance reads the whole topic anyway; one partition is plenty for one record per worker. */
    public static final int PARTITIONS = 1;

    /**
     * Compacted by worker id, so that an api instance starting up reads about one record per worker, not its
     * history. Kafka compacts only closed segments, and by default closes one after a week (a worker beating
     * every 5 s writes 120,000 records a week); hourly segments keep the start-up read short.
     */
    public static final Map<String, String> CONFIGS = Map.of(
            TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
            TopicConfig.SEGMENT_MS_CONFIG, String.valueOf(60 * 60 * 1000));

    private WorkersTopic() {
    }
}
