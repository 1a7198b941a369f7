package dev.conveyor.api.submit;

import dev.conveyor.api.web.StoreUnavailableException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.transaction.TransactionException;

/**
 * Tells apart why an insert failed: the store is unavailable (try again later, nothing was stored), or it refused
 * what it was given (a data error: the same rows would fail again, so find the one at fault).
 */
final class StoreFailures {

    /** What a failure says about the rows that were inserted. */
    enum Kind {
        /** The store could not take them now; the same rows may succeed later. */
        UNAVAILABLE,
        /** The store refused a value (SQLSTATE class 22 or 23): the rows at fault would fail again. */
        REFUSED,
        /** Anything else, a bug more likely than bad input; still worth finding the rows at fault. */
        OTHER
    }

    private StoreFailures() {
    }

    static Kind classify(Throwable failure) {
        for (var cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLException sql && sql.getSQLState() != null && sql.getSQLState().length() == 5) {
                var state = sql.getSQLState();
                // a unique violation can only be a concurrent insert of the same idempotency key: trying again
                // answers the job that won
                if (state.equals("23505")) {
                    return Kind.UNAVAILABLE;
                }
                switch (state.substring(0, 2)) {
                    case "22", "23" -> {
                        return Kind.REFUSED;
                    }
                    // connection, transaction rollback, insufficient resources, operator intervention, system error
                    case "08", "40", "53", "57", "58" -> {
                        return Kind.UNAVAILABLE;
                    }
                    default -> {
                        // look further down, then at Spring's view
                    }
                }
            }
        }
        for (var cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof TransientDataAccessException || cause instanceof DataAccessResourceFailureException
                    || cause instanceof TransactionException || cause instanceof StoreUnavailableException
                    || cause instanceof SQLTransientException || cause instanceof SQLRecoverableException) {
                return Kind.UNAVAILABLE;
            }
        }
        return Kind.OTHER;
    }

    /** The database's own words for a refusal, e.g. {@code unsupported Unicode escape sequence}. */
    static String reason(Throwable failure) {
        for (var cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLException sql && sql.getMessage() != null) {
                var message = sql.getMessage().lines().findFirst().orElse("").strip();
                return message.startsWith("ERROR: ") ? message.substring("ERROR: ".length()) : message;
            }
        }
        return String.valueOf(failure.getMessage());
    }
}
