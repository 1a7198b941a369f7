package dev.conveyor.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.EOFException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;

/** A task that fails try after try logs the start, a line a minute with the count, and the end of its failures. */
class TaskFailuresTest {

    private static final String REFUSED = "HikariPool-1 - Connection is not available, request timed out after 1000ms "
            + "(total=0, active=0, idle=0, waiting=0): FATAL: database \"jobs\" is not currently accepting connections";

    private final AtomicLong now = new AtomicLong(-7_000_000_000L); // nanoTime may be negative
    private final Logger logger = (Logger) LoggerFactory.getLogger("test.TaskFailures");
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private final TaskFailures failures = new TaskFailures(logger, "The test pass", "nothing is tested", now::get);

    @BeforeEach
    void capture() {
        logger.setLevel(Level.DEBUG);
        logger.addAppender(logged);
        logged.start();
    }

    @AfterEach
    void release() {
        logger.detachAppender(logged);
        logger.setLevel(null);
    }

    @Test
    void aTaskThatKeepsFailingWarnsOnceThenOnceAMinuteWithTheCountAndSaysWhenItWorksAgain() {
        for (var second = 0; second <= 130; second++) {
            failures.failed(refused());
            now.addAndGet(Duration.ofSeconds(1).toNanos());
        }
        failures.worked();
        failures.worked();

        assertThat(lines(Level.WARN)).containsExactly(
                "The test pass failed; nothing is tested until it works again (it keeps trying): " + REFUSED,
                "The test pass still fails: 61 tries failed in 60 s; nothing is tested. The last: " + REFUSED,
                "The test pass still fails: 121 tries failed in 120 s; nothing is tested. The last: " + REFUSED);
        assertThat(lines(Level.INFO)).containsExactly("The test pass works again, after 131 tries failed in 131 s");
        assertThat(lines(Level.DEBUG)).hasSize(130).first().isEqualTo(
                "The test pass failed again (try 2): " + REFUSED);
        assertThat(failures.failing()).isFalse();
    }

    @Test
    void aTaskThatWorksLogsNothing() {
        failures.worked();
        failures.worked();

        assertThat(logged.list).isEmpty();
        assertThat(failures.failing()).isFalse();
    }

    @Test
    void aNewOutageIsWarnedOfAtOnceWithinTheMinuteOfTheLastLine() {
        failures.failed(refused());
        now.addAndGet(Duration.ofSeconds(5).toNanos());
        failures.worked();
        now.addAndGet(Duration.ofSeconds(5).toNanos());
        failures.failed(new CannotGetJdbcConnectionException("Failed to obtain JDBC Connection"));

        assertThat(lines(Level.WARN)).hasSize(2).last().isEqualTo(
                "The test pass failed; nothing is tested until it works again (it keeps trying): Failed to obtain "
                        + "JDBC Connection");
        assertThat(lines(Level.INFO)).containsExactly("The test pass works again, after 1 try failed in 5 s");
        assertThat(failures.failing()).isTrue();
    }

    /** An outage is expected and its stack says nothing; any other failure may be a bug, and its stack is kept. */
    @Test
    void theFirstWarningCarriesTheStackOnlyOfAFailureThatIsNoOutage() {
        failures.failed(refused());
        failures.worked();
        failures.failed(new IllegalStateException("a bug"));
        failures.failed(new IllegalStateException("a bug"));

        assertThat(logged.list).filteredOn(event -> event.getLevel() == Level.WARN)
                .extracting(event -> event.getThrowableProxy() == null ? null : event.getThrowableProxy().getMessage())
                .containsExactly(null, "a bug");
    }

    /** The database says why, not Spring's words, nor the statement. */
    @Test
    void theCauseIsTheDriversAndTheInnermostWordsWithoutTheStatement() {
        var broken = new DataAccessResourceFailureException("PreparedStatementCallback; SQL [SELECT\n 1]; An I/O "
                + "error occurred while sending to the backend.", new SQLException("An I/O error occurred while "
                + "sending to the backend.", "08006", new EOFException()));

        assertThat(TaskFailures.cause(refused())).isEqualTo(REFUSED);
        assertThat(TaskFailures.cause(broken)).isEqualTo("An I/O error occurred while sending to the backend.");
        assertThat(TaskFailures.cause(new IllegalStateException("a bug\nin two lines")))
                .isEqualTo("a bug\\nin two lines");
    }

    private static CannotGetJdbcConnectionException refused() {
        return new CannotGetJdbcConnectionException("Failed to obtain JDBC Connection",
                new SQLTransientConnectionException("HikariPool-1 - Connection is not available, request timed out "
                        + "after 1000ms (total=0, active=0, idle=0, waiting=0)", new SQLException(
                        "FATAL: database \"jobs\" is not currently accepting connections", "55000")));
    }

    private List<String> lines(Level level) {
        return logged.list.stream().filter(event -> event.getLevel() == level)
                .map(ILoggingEvent::getFormattedMessage).toList();
    }
}
