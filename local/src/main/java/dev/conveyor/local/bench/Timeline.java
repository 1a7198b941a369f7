package dev.conveyor.local.bench;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import tools.jackson.databind.JsonNode;

/**
 * Where a burst's jobs were over time, from their own timestamps: how many were stored ({@code createdAt}), started
 * ({@code startedAt}), finished ({@code finishedAt}) and recorded ({@code updatedAt}: the api's record of the outcome,
 * which ends the run) in each step from the run's first submit. Gaps show where the jobs waited: a worker that ran
 * dry, outcomes recorded late, submissions that came slowly.
 */
final class Timeline {

    private static final String[] FIELDS = {"createdAt", "startedAt", "finishedAt", "updatedAt"};
    /** About this many rows, whatever the run's length; steps are whole multiples of 50 ms. */
    static final int ROWS = 40;

    private final long stepMillis;
    private final long[][] counts;

    private Timeline(long stepMillis, long[][] counts) {
        this.stepMillis = stepMillis;
        this.counts = counts;
    }

    /**
     * The jobs' timeline from {@code first} (the run's first submit) to {@code last} (its last outcome recorded); a
     * job without a timestamp is not counted there, and one outside the two is counted in the first or last step.
     */
    static Timeline of(Instant first, Instant last, Collection<JsonNode> jobs) {
        var span = Math.max(0, Duration.between(first, last).toMillis());
        var step = Math.max(1, (span / ROWS + 49) / 50) * 50;
        var rows = (int) (span / step) + 1;
        var counts = new long[rows][FIELDS.length];
        for (var job : jobs) {
            for (var f = 0; f < FIELDS.length; f++) {
                var at = instant(job, FIELDS[f]);
                if (at != null) {
                    var row = (int) Math.clamp(Duration.between(first, at).toMillis() / step, 0, rows - 1);
                    counts[row][f]++;
                }
            }
        }
        return new Timeline(step, counts);
    }

    private static Instant instant(JsonNode job, String field) {
        var value = job.get(field);
        return value == null || value.isNull() ? null : Instant.parse(value.asString());
    }

    long stepMillis() {
        return stepMillis;
    }

    /** Jobs per step: {@code [row][created, started, finished, recorded]}. */
    long[][] counts() {
        return counts;
    }

    /** One line per step, each count with its running total. */
    String render() {
        var text = new StringBuilder(String.format(
                "    from the first submit, jobs per %d ms (running total): stored, started, finished, recorded%n",
                stepMillis));
        var totals = new long[FIELDS.length];
        for (var row = 0; row < counts.length; row++) {
            text.append(String.format("    %,7d ms", row * stepMillis));
            for (var f = 0; f < FIELDS.length; f++) {
                totals[f] += counts[row][f];
                text.append(String.format("  %,6d (%,7d)", counts[row][f], totals[f]));
            }
            text.append(System.lineSeparator());
        }
        return text.toString();
    }
}
