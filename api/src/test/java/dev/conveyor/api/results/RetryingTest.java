package dev.conveyor.api.results;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;

/** A write retried while the database is away is logged once as it begins to fail and once as it passes. */
class RetryingTest {

    private final Logger logger = (Logger) LoggerFactory.getLogger("test.Retrying");
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private final Retrying retrying = new Retrying(logger, "Writing the test", "nothing is written");

    @BeforeEach
    void capture() {
        logger.setLevel(Level.INFO);
        logger.addAppender(logged);
        logged.start();
    }

    @AfterEach
    void release() {
        logger.detachAppender(logged);
        logger.setLevel(null);
    }

    @Test
    void aWriteThatFailsSeveralTimesIsWarnedOfOnceAndSaidToWorkOnce() {
        var tries = new AtomicInteger();
        retrying.untilDone(() -> {
            if (tries.incrementAndGet() <= 4) {
                throw new CannotGetJdbcConnectionException("Failed to obtain JDBC Connection",
                        new SQLException("Connection to 127.0.0.1:5432 refused", "08001"));
            }
        });

        assertThat(tries).hasValue(5);
        assertThat(logged.list).satisfiesExactly(
                warning -> assertThat(warning.getFormattedMessage()).isEqualTo("Writing the test failed; nothing is "
                        + "written until it works again (it keeps trying): Connection to 127.0.0.1:5432 refused"),
                recovery -> assertThat(recovery.getFormattedMessage())
                        .matches("Writing the test works again, after 4 tries failed in \\d+ s"));
        assertThat(logged.list).extracting(ILoggingEvent::getLevel).containsExactly(Level.WARN, Level.INFO);
    }

    @Test
    void aFailureOfTheCodeRatherThanTheDatabaseIsThrownAfterThreeTriesInARow() {
        var tries = new AtomicInteger();
        var bug = new ArithmeticException("long overflow");

        assertThatThrownBy(() -> retrying.untilDone(() -> {
            tries.incrementAndGet();
            throw bug;
        })).isSameAs(bug);
        assertThat(tries).hasValue(Retrying.CODE_FAILURE_TRIES);
    }

    @Test
    void aFailureOfTheCodeIsRetriedLikeAnOutageWhenItMayNotEnd() {
        var tries = new AtomicInteger();

        retrying.untilDone(() -> {
            if (tries.incrementAndGet() <= Retrying.CODE_FAILURE_TRIES + 1) {
                throw new IllegalStateException("a bug on every write, until the fix");
            }
        }, false);

        assertThat(tries).hasValue(Retrying.CODE_FAILURE_TRIES + 2);
    }

    @Test
    void tenJobsAMinuteMayFailForTheCodeAndOneMoreOnlyOnceTheFirstIsAMinuteOld() {
        var now = new java.util.concurrent.atomic.AtomicLong();
        var failures = new EventApplier.CodeFailures(now::get);
        for (var i = 0; i < EventApplier.CodeFailures.MOST; i++) {
            assertThat(failures.tryFail()).as("failure %d", i + 1).isTrue();
            now.addAndGet(java.time.Duration.ofSeconds(1).toNanos());
        }

        assertThat(failures.tryFail()).isFalse();
        now.set(java.time.Duration.ofMinutes(1).toNanos() - 1);
        assertThat(failures.tryFail()).isFalse();
        now.set(java.time.Duration.ofMinutes(1).toNanos());
        assertThat(failures.tryFail()).isTrue();
        assertThat(failures.tryFail()).isFalse();
    }

    @Test
    void anOutageBetweenFailuresOfTheCodeStartsTheirCountAgain() {
        var tries = new AtomicInteger();
        var bug = new IllegalStateException("a value no branch expected");
        var outage = new CannotGetJdbcConnectionException("Failed to obtain JDBC Connection",
                new SQLException("Connection to 127.0.0.1:5432 refused", "08001"));

        // two code failures, an outage, two code failures, then it passes: never three of the code's in a row
        retrying.untilDone(() -> {
            switch (tries.incrementAndGet()) {
                case 1, 2, 4, 5 -> throw bug;
                case 3 -> throw outage;
                default -> {
                }
            }
        });

        assertThat(tries).hasValue(6);
    }

    @Test
    void aWriteThatFailsForItsDataIsThrownAtOnceAndNotLogged() {
        var refused = new DataIntegrityViolationException("refused", new SQLException("bad value", "22P02"));

        assertThatThrownBy(() -> retrying.untilDone(() -> {
            throw refused;
        })).isSameAs(refused);
        assertThat(logged.list).isEmpty();
    }
}
