package dev.conveyor.common.log;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Lets one of a kind of log line through per interval and counts the ones held back, for lines that an outage would
 * otherwise write once per request or per job (the database away: every request fails; Kafka away: every job's
 * outcome waits). The first line of a kind is let through at once. Lock-free; shared by every thread.
 */
public final class LogInterval {

    private final long intervalNanos;
    private final LongSupplier nanoTime;
    private final AtomicLong lastAt;
    private final AtomicLong heldBack = new AtomicLong();

    public LogInterval(Duration interval) {
        this(interval, System::nanoTime);
    }

    /** With {@code nanoTime} as the clock ({@link System#nanoTime()} outside tests). */
    public LogInterval(Duration interval, LongSupplier nanoTime) {
        this.intervalNanos = interval.toNanos();
        this.nanoTime = nanoTime;
        this.lastAt = new AtomicLong(nanoTime.getAsLong() - intervalNanos);
    }

    /**
     * Whether to log this line: {@code -1} to hold it back, or else how many lines were held back since the last one
     * let through.
     */
    public long pass() {
        var now = nanoTime.getAsLong();
        var last = lastAt.get();
        if (now - last >= intervalNanos && lastAt.compareAndSet(last, now)) {
            return heldBack.getAndSet(0);
        }
        heldBack.incrementAndGet();
        return -1;
    }

    /** {@code ""} for none, else what to append to a line let through: how many like it were held back. */
    public static String heldBack(long count) {
        return count <= 0 ? "" : " (and " + count + " more like it since the last such line)";
    }
}
