package dev.conveyor.worker.sql;

import dev.conveyor.common.handler.JobFailure;
import java.sql.SQLException;

/**
 * Database errors as failures with code {@code SQL_ERROR}. They are retryable (a lost connection, a serialization
 * failure or a deadlock can pass), except data exceptions (SQLSTATE class 22, a parameter that does not fit its
 * column) and integrity violations (class 23), which every attempt would meet again with the same parameters.
 */
final class SqlErrors {

    static final String CODE = "SQL_ERROR";

    private SqlErrors() {
    }

    static JobFailure failure(String statement, SQLException e) {
        var state = e.getSQLState() == null ? "" : e.getSQLState();
        var permanent = state.startsWith("22") || state.startsWith("23");
        var message = "statement '" + statement + "' failed" + (state.isEmpty() ? "" : " (SQLSTATE " + state + ")")
                + ": " + e.getMessage();
        return new JobFailure(CODE, message, !permanent, null, e);
    }
}
