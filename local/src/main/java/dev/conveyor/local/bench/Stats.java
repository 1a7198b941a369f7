package dev.conveyor.local.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Percentiles of one run's latencies, and the median and spread of a figure over runs. */
final class Stats {

    private Stats() {
    }

    /** Latency percentiles in milliseconds (nearest rank). */
    record Latencies(double p50, double p95, double p99, double max) {

        static Latencies of(double[] millis) {
            if (millis.length == 0) {
                throw new IllegalArgumentException("no latencies");
            }
            var sorted = millis.clone();
            Arrays.sort(sorted);
            return new Latencies(percentile(sorted, 50), percentile(sorted, 95), percentile(sorted, 99),
                    sorted[sorted.length - 1]);
        }
    }

    /** The value at or below which {@code p} percent of the sorted values lie (nearest-rank method). */
    static double percentile(double[] sorted, double p) {
        var rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.clamp(rank - 1, 0, sorted.length - 1)];
    }

    /** The median of some runs and the smallest and largest of them. */
    record Spread(double median, double min, double max) {

        static Spread of(List<Double> values) {
            if (values.isEmpty()) {
                throw new IllegalArgumentException("no values");
            }
            var sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            var middle = sorted.length / 2;
            var median = sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
            return new Spread(median, sorted[0], sorted[sorted.length - 1]);
        }

        /** {@code median (min-max)}, or the median alone for one run; each number as {@link #number}. */
        String format() {
            if (min == max) {
                return number(median);
            }
            return number(median) + " (" + number(min) + "-" + number(max) + ")";
        }
    }

    /** A figure as a table shows it: thousands separated, two significant decimals below 10, none from 100. */
    static String number(double value) {
        var magnitude = Math.abs(value);
        if (magnitude >= 100 || value == Math.rint(value)) {
            return String.format(Locale.ROOT, "%,.0f", value);
        }
        if (magnitude >= 10) {
            return String.format(Locale.ROOT, "%.1f", value);
        }
        if (magnitude >= 1) {
            return String.format(Locale.ROOT, "%.2f", value);
        }
        return String.format(Locale.ROOT, "%.3f", value);
    }
}
