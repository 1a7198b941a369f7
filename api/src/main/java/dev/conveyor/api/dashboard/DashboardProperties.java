package dev.conveyor.api.dashboard;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Settings of the dashboard ({@code /}) and its numbers ({@code GET /v1/stats}), under
 * {@code conveyor.api.dashboard}. Checked at start-up.
 *
 * @param bucket   the width of one point of the throughput and latency series: whole seconds, 1 to 60
 * @param history  how far back the series go; at most 1,000 buckets
 * @param settle   how long after a bucket ends it is counted, so that ends recorded in transactions still open at
 *                 its end are in it
 * @param cacheFor how long one read of the queue counters answers every viewer
 * @param refresh  how long each view of the dashboard waits after one refresh before the next: 500ms to 1h
 */
@ConfigurationProperties("conveyor.api.dashboard")
public record DashboardProperties(
        @DefaultValue("5s") Duration bucket,
        @DefaultValue("10m") Duration history,
        @DefaultValue("2s") Duration settle,
        @DefaultValue("1s") Duration cacheFor,
        @DefaultValue("2s") Duration refresh) {

    public DashboardProperties {
        require(bucket.toMillis() % 1000 == 0 && bucket.toSeconds() >= 1 && bucket.toSeconds() <= 60,
                "conveyor.api.dashboard.bucket must be whole seconds from 1s to 60s");
        require(!history.minus(bucket).isNegative(), "conveyor.api.dashboard.history must be at least one bucket");
        require(history.dividedBy(bucket) <= 1000,
                "conveyor.api.dashboard.history must be at most 1,000 buckets (raise bucket or lower history)");
        require(!settle.isNegative() && settle.compareTo(Duration.ofMinutes(1)) <= 0,
                "conveyor.api.dashboard.settle must be from 0s to 1m");
        require(!cacheFor.isNegative() && cacheFor.compareTo(Duration.ofMinutes(1)) <= 0,
                "conveyor.api.dashboard.cache-for must be from 0s to 1m");
        require(refresh.compareTo(Duration.ofMillis(500)) >= 0 && refresh.compareTo(Duration.ofHours(1)) <= 0,
                "conveyor.api.dashboard.refresh must be from 500ms to 1h (a number alone is milliseconds: write 5s "
                        + "for five seconds)");
    }

    /** Buckets kept. */
    int buckets() {
        return (int) history.dividedBy(bucket);
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
