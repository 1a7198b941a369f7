package dev.conveyor.api.results;

import dev.conveyor.api.TaskFailures;
import java.sql.SQLException;
import java.time.Duration;
import org.slf4j.Logger;
import tools.jackson.core.JacksonException;

/**
 * Runs a write until it passes, with backoff, unless it fails because of what it writes. A failure caused by the
 * data (PostgreSQL's data and integrity errors, a program limit such as a too deeply nested value, a value that
 * cannot be encoded) is thrown to the caller, which knows what in the write could be at fault. A failure of the
 * database or Kafka of any other kind (restarting or unreachable, a lock conflict, a deadlock, a statement the
 * schema does not fit) is not the data's fault: dropping or failing the write then would lose outcomes, so it is
 * retried for as long as it lasts. A failure from neither (our own code throwing on what it was given: an overflow,
 * a value no branch expected) is tried {@value #CODE_FAILURE_TRIES} times in a row, then thrown as the data's: were
 * it retried for ever, one event that a bug cannot handle would stop every outcome behind it.
 */
final class Retrying {

    private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
    /** How many times in a row a write may fail outside the database and Kafka before it is taken as the data's. */
    static final int CODE_FAILURE_TRIES = 3;

    /** Thrown when the thread is interrupted while it waits to retry (the application is stopping). */
    static final class Interrupted extends RuntimeException {
        Interrupted(InterruptedException cause) {
            super("interrupted while retrying a write", cause);
        }
    }

    private final TaskFailures failures;

    /** Logging to {@code log} about the writes of {@code task} as {@link TaskFailures} does. */
    Retrying(Logger log, String task, String meanwhile) {
        this.failures = new TaskFailures(log, task, meanwhile);
    }

    void untilDone(Runnable write) {
        untilDone(write, true);
    }

    /**
     * As {@link #untilDone(Runnable)}, but a failure of the code is retried for as long as it lasts, like an outage,
     * when {@code codeFailuresEnd} is false (a bug that hits every write: failing them all would lose outcomes).
     */
    void untilDone(Runnable write, boolean codeFailuresEnd) {
        var backoff = FIRST_BACKOFF;
        var codeFailures = 0;
        while (true) {
            try {
                write.run();
                failures.worked();
                return;
            } catch (RuntimeException e) {
                if (isCausedByData(e) || e instanceof Interrupted) {
                    throw e;
                }
                codeFailures = TaskFailures.isOutage(e) ? 0 : codeFailures + 1;
                if (codeFailuresEnd && codeFailures == CODE_FAILURE_TRIES) {
                    throw e;
                }
                failures.failed(e);
                sleep(backoff);
                backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
            }
        }
    }

    /** Data exceptions (class 22), integrity violations (23), program limits (54), or a value Jackson refused. */
    static boolean isCausedByData(Throwable e) {
        for (var cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof JacksonException) {
                return true;
            }
            if (cause instanceof SQLException sql && sql.getSQLState() != null) {
                var state = sql.getSQLState();
                return state.startsWith("22") || state.startsWith("23") || state.startsWith("54");
            }
        }
        return false;
    }

    private static void sleep(Duration backoff) {
        try {
            Thread.sleep(backoff);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Interrupted(e);
        }
    }
}
