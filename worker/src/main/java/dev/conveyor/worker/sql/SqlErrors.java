package dev.conveyor.worker.sql;

import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.worker.Secrets;
import java.sql.SQLException;
import java.util.List;

/**
 * Database errors as failures with code {@code SQL_ERROR}. They are retryable (a lost connection, a serialization
 * failure or a deadlock can pass), except data exceptions (SQLSTATE class 22, a parameter that does not fit its
 * column) and integrity violations (class 23), which every attempt would meet again with the same parameters.
 */
final class SqlErrors {

    static final String CODE = "SQL_ERROR";

    private SqlErrors() {
    }

    /**
     * {@code e} as a failure of {@code statement}; the database's password ({@code secret}) is masked should the
     * driver's message hold it.
     */
    static JobFailure failure(String statement, SQLException e, String secret) {
        var state = e.getSQLState() == null ? "" : e.getSQLState();
        var permanent = state.startsWith("22") || state.startsWith("23");
        var message = "statement '" + statement + "' failed" + (state.isEmpty() ? "" : " (SQLSTATE " + state + ")")
                + ": " + Secrets.url(Secrets.hide(e.getMessage(), secret == null ? List.of() : List.of(secret)));
        return new JobFailure(CODE, message, !permanent, null, e);
    }
}
