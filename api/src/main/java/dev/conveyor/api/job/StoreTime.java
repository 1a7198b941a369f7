package dev.conveyor.api.job;

import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;

/**
 * The database's time in milliseconds, as job ids carry it: read from PostgreSQL at start and every minute, and
 * counted on between readings by this process's monotonic clock. Ids sort the listing (newest first), and every api
 * instance's jobs are listed among the others' by when they were submitted only if the instances agree on the time:
 * from each api's own clock, an instance whose clock ran an hour ahead had its jobs listed before all others for an
 * hour. Counting on by {@link System#nanoTime()}, not the wall clock, a step of this host's clock moves no id either.
 */
public final class StoreTime implements LongSupplier {

    private static final Logger log = LoggerFactory.getLogger(StoreTime.class);
    private static final String NOW = "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint";

    private final JdbcClient jdbc;
    private volatile Reading reading;

    /** Reads the database's time once: it answers at start, or the api does not start (its migrations need it). */
    public StoreTime(JdbcClient jdbc) {
        this.jdbc = jdbc;
        this.reading = read();
    }

    @Override
    public long getAsLong() {
        var last = reading;
        return last.storeMillis() + (System.nanoTime() - last.nanoTime()) / 1_000_000;
    }

    /**
     * Reads it again: the two clocks drift apart slowly, and the database's may be set. A database away keeps the
     * last reading (the ids of jobs it could not store do not matter).
     */
    @Scheduled(fixedDelayString = "PT1M", initialDelayString = "PT1M")
    void refresh() {
        try {
            reading = read();
        } catch (DataAccessException e) {
            log.debug("Could not read the database's time; ids go on from the last reading: {}", e.getMessage());
        }
    }

    /** The database's time, taken as the middle of the round trip that asked it. */
    private Reading read() {
        var before = System.nanoTime();
        var millis = jdbc.sql(NOW).query(Long.class).single();
        var after = System.nanoTime();
        return new Reading(millis, before + (after - before) / 2);
    }

    private record Reading(long storeMillis, long nanoTime) {
    }
}
