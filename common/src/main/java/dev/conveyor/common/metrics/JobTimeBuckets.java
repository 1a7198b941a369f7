package dev.conveyor.common.metrics;

import java.time.Duration;

/**
 * The buckets of every job-time histogram Conveyor exports (queue wait, run time, submit to end): 16, from 5 ms to
 * 1 h, plus +Inf. Few enough to keep each series cheap, wide enough for jobs that wait or run for hours; the same
 * on api and worker, so dashboards can put them side by side.
 */
public final class JobTimeBuckets {

    private static final Duration[] BUCKETS = {
            Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
            Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
            Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30),
            Duration.ofMinutes(1), Duration.ofMinutes(5), Duration.ofMinutes(15), Duration.ofHours(1)};

    private JobTimeBuckets() {
    }

    public static Duration[] buckets() {
        return BUCKETS.clone();
    }

    public static Duration smallest() {
        return BUCKETS[0];
    }

    public static Duration largest() {
        return BUCKETS[BUCKETS.length - 1];
    }
}
