package dev.conveyor.api;

import java.sql.SQLException;
import org.flywaydb.core.api.FlywayException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Says, as the api stops, that a migration gave up waiting for a lock ({@link MigrationLocks}), and that starting
 * again retries it; Flyway's own words are a stack trace of some hundred lines about a statement canceled.
 */
class MigrationLockFailure extends AbstractFailureAnalyzer<FlywayException> {

    /** PostgreSQL's lock_not_available: a lock_timeout that ran out (or a NOWAIT, which no migration uses). */
    private static final String LOCK_NOT_AVAILABLE = "55P03";

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, FlywayException cause) {
        if (!lockNotAvailable(cause)) {
            return null;
        }
        var migration = cause.getMessage() == null ? "" : cause.getMessage().lines().findFirst().orElse("");
        return new FailureAnalysis("A migration of the job store waited longer than"
                + " conveyor.api.migration-lock-timeout for a lock on a table that other sessions hold (the running"
                + " apis' transactions, during an upgrade), and gave up so that their statements would not queue"
                + " behind it; it was rolled back and changed nothing (Flyway: " + migration + ").",
                "Start the api again (under Kubernetes, its pod restarts by itself): the migration is tried anew. If"
                        + " it keeps giving up, see which sessions hold the lock (pg_locks, pg_stat_activity), or"
                        + " raise conveyor.api.migration-lock-timeout, knowing that the job flow waits that long at"
                        + " each try.",
                cause);
    }

    private static boolean lockNotAvailable(Throwable failure) {
        for (var cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLException e && LOCK_NOT_AVAILABLE.equals(e.getSQLState())) {
                return true;
            }
        }
        return false;
    }
}
