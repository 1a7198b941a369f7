package dev.conveyor.api.queues;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Durations of repeated runs of one thing, in nanoseconds, summarized as the benchmark prints them. */
final class Timings {

    private final List<Long> nanos = new ArrayList<>();

    void add(long duration) {
        nanos.add(duration);
    }

    int count() {
        return nanos.size();
    }

    double medianMillis() {
        return quantileMillis(0.5);
    }

    double p95Millis() {
        return quantileMillis(0.95);
    }

    /** Nearest-rank quantile: a duration that was actually measured, no interpolation. */
    double quantileMillis(double q) {
        var sorted = new ArrayList<>(nanos);
        Collections.sort(sorted);
        var rank = (int) Math.ceil(q * sorted.size());
        return sorted.get(Math.max(rank, 1) - 1) / 1e6;
    }

    /** {@code rows} per second at the median duration. */
    double rowsPerSecond(int rows) {
        return rows / (medianMillis() / 1000);
    }
}
