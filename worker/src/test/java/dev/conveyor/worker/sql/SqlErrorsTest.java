package dev.conveyor.worker.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** A database error becomes a failure whose message never holds the database's password. */
class SqlErrorsTest {

    @Test
    void masksThePasswordShouldTheDriverEchoIt() {
        var error = new SQLException("cannot connect to jdbc:postgresql://db/app?password=hunter22&ssl=1 "
                + "as reporter/hunter22", "08001");
        var failure = SqlErrors.failure("report", error, "hunter22");
        assertThat(failure.getMessage()).doesNotContain("hunter22")
                .isEqualTo("statement 'report' failed (SQLSTATE 08001): cannot connect to "
                        + "jdbc:postgresql://db/app?password=****&ssl=1 as reporter/****");
        assertThat(failure.retryable()).isTrue();
    }
}
