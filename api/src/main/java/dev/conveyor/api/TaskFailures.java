package dev.conveyor.api;

import dev.conveyor.common.log.LogInterval;
import dev.conveyor.common.log.LogText;
import java.sql.SQLException;
import java.time.Duration;
import java.util.function.LongSupplier;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.dao.DataAccessException;
import org.springframework.transaction.TransactionException;

/**
 * The log of a task that tries again and again (a poll, a periodic pass, a connection held open) while what it needs
 * is away, PostgreSQL or Kafka: one warning with the cause when it starts failing, at most one line a minute while it
 * goes on failing, with how many tries failed, and one info line when it works again. Each try is logged at debug.
 * Safe to share between threads; while the task works, a call costs one volatile read.
 */
public final class TaskFailures {

    /** How often a task that keeps failing says so. */
    public static final Duration LOGGED_EVERY = Duration.ofMinutes(1);

    private final Logger log;
    private final String task;
    private final String meanwhile;
    private final LongSupplier nanoTime;
    // only while failing: the outage's lines and counts
    private volatile boolean failing;
    private LogInterval lines;
    private long failedTries;
    private long failingSince;

    /**
     * For {@code task}, the subject of its lines ({@code "The rescue pass"}), which says {@code meanwhile} what is
     * held up while it fails ({@code "lost attempts stay RUNNING"}).
     */
    public TaskFailures(Logger log, String task, String meanwhile) {
        this(log, task, meanwhile, System::nanoTime);
    }

    /** With {@code nanoTime} as the clock ({@link System#nanoTime()} outside tests). */
    TaskFailures(Logger log, String task, String meanwhile, LongSupplier nanoTime) {
        this.log = log;
        this.task = task;
        this.meanwhile = meanwhile;
        this.nanoTime = nanoTime;
    }

    /** A try failed with {@code e}. */
    public synchronized void failed(Exception e) {
        if (!failing) {
            failing = true;
            failedTries = 1;
            failingSince = nanoTime.getAsLong();
            lines = new LogInterval(LOGGED_EVERY, nanoTime);
            lines.pass();
            var cause = cause(e);
            if (isOutage(e)) {
                log.warn("{} failed; {} until it works again (it keeps trying): {}", task, meanwhile, cause);
            } else {
                log.warn("{} failed; {} until it works again (it keeps trying): {}", task, meanwhile, cause, e);
            }
            return;
        }
        failedTries++;
        if (log.isDebugEnabled()) {
            log.debug("{} failed again (try {}): {}", task, failedTries, cause(e));
        }
        if (lines.pass() >= 0) {
            log.warn("{} still fails: {} failed in {} s; {}. The last: {}", task, tries(failedTries),
                    secondsFailing(), meanwhile, cause(e));
        }
    }

    /** A try worked: says so once after failures. Costs one volatile read while the task works. */
    public void worked() {
        if (failing) {
            synchronized (this) {
                if (failing) {
                    failing = false;
                    log.info("{} works again, after {} failed in {} s", task, tries(failedTries), secondsFailing());
                }
            }
        }
    }

    /** Whether the last try failed. */
    public boolean failing() {
        return failing;
    }

    private static String tries(long count) {
        return count == 1 ? "1 try" : count + " tries";
    }

    private long secondsFailing() {
        return Duration.ofNanos(nanoTime.getAsLong() - failingSince).toSeconds();
    }

    /**
     * The first words of the database's driver (or pool) in the failure, else its own message, and its innermost
     * cause's when that says more: Spring's "Failed to obtain JDBC Connection" does not say that the database refused
     * it, and its "PreparedStatementCallback; SQL [...]" spells out the statement rather than what went wrong.
     */
    static String cause(Throwable e) {
        var message = String.valueOf(e.getMessage());
        for (var cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLException sql && sql.getMessage() != null) {
                message = sql.getMessage().lines().findFirst().orElse("").strip();
                break;
            }
        }
        var inner = NestedExceptionUtils.getMostSpecificCause(e).getMessage();
        var text = inner == null || message.contains(inner.strip()) ? message : message + ": " + inner.strip();
        return LogText.of(text, 1000);
    }

    /**
     * Whether the failure comes from the database or Kafka (an outage looks like this), logged without its stack: a
     * failure of any other kind is more likely a bug, and its first line carries the stack.
     */
    public static boolean isOutage(Throwable e) {
        for (var cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof DataAccessException || cause instanceof TransactionException
                    || cause instanceof SQLException || cause instanceof KafkaException) {
                return true;
            }
        }
        return false;
    }
}
