package dev.conveyor.common.metrics;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Bounds the distinct values of a user-controlled metric tag (a job type, a queue): the first {@code limit} distinct
 * values pass as they are, every later one is folded into {@link #OTHER}, so that no client can make a metrics
 * registry, or the Prometheus behind it, grow without end.
 */
public final class BoundedValues {

    /** What values beyond the limit are reported as. */
    public static final String OTHER = "other";

    private final int limit;
    private final ConcurrentHashMap<String, Boolean> seen = new ConcurrentHashMap<>();

    public BoundedValues(int limit) {
        this.limit = limit;
    }

    /** The value itself while it is one of the first {@code limit} seen (null reads as "none"), else "other". */
    public String of(String value) {
        if (value == null) {
            return "none";
        }
        if (seen.containsKey(value)) {
            return value;
        }
        // Racing callers may pass the limit by a few values; the bound stays.
        if (seen.size() < limit) {
            seen.putIfAbsent(value, Boolean.TRUE);
            return value;
        }
        return OTHER;
    }
}
