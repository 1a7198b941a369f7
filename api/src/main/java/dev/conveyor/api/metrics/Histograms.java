package dev.conveyor.api.metrics;

import dev.conveyor.common.metrics.JobTimeBuckets;
import io.micrometer.core.instrument.Timer;

/** Job-time timers as the api exports them: a Prometheus histogram with {@link JobTimeBuckets}. */
final class Histograms {

    private Histograms() {
    }

    /**
     * A timer with the fixed buckets only. Micrometer's percentile histogram would add ~70 buckets per series between
     * the same bounds; the fixed ones serve {@code histogram_quantile} well enough for job times.
     */
    static Timer.Builder timer(String name, String description) {
        return Timer.builder(name).description(description).serviceLevelObjectives(JobTimeBuckets.buckets())
                .minimumExpectedValue(JobTimeBuckets.smallest()).maximumExpectedValue(JobTimeBuckets.largest());
    }
}
