package dev.conveyor.worker.sql;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import tools.jackson.databind.JsonNode;

/**
 * Runs a statement on a virtual thread of its own while the job's thread waits for it, so that the job's interrupt
 * (its deadline passed, or it was cancelled) stops the statement on the server.
 *
 * <p>Why: the JDK closes the socket of a virtual thread interrupted in a socket read. With the statement on the job's
 * thread, pgjdbc failed (08006) and dropped its own cancel timer, and nothing told PostgreSQL: the backend ran on,
 * orphaned, and an update waiting on a lock committed once the lock came free, after the attempt had been
 * reported {@code TIMEOUT} or {@code CANCELLED}. Here the interrupt reaches only the waiting thread, which sends a
 * cancel request (pgjdbc opens a connection of its own for it, with the backend's key) and waits for the statement
 * to end, so that its connection goes back to the pool idle.
 */
final class ServerCancel {

    /** How long a cancel is given before it is sent again. */
    private static final Duration CANCEL_AGAIN = Duration.ofMillis(250);

    /** The statement's work: execute it and read its answer. */
    interface Work {
        JsonNode run() throws SQLException;
    }

    private ServerCancel() {
    }

    /**
     * Runs {@code work} on {@code statement} of {@code connection}; when this thread is interrupted, cancels it on the
     * server, waits up to {@code grace} for it to end (else closes the connection under it), and throws.
     */
    static JsonNode run(Connection connection, Statement statement, Work work, Duration grace)
            throws SQLException, InterruptedException {
        var execution = new FutureTask<>(work::run);
        Thread.ofVirtual().name("sql-" + Thread.currentThread().getName()).start(execution);
        try {
            return execution.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof SQLException sql) {
                throw sql;
            }
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException("sql work throws SQLException, unchecked ones aside", e.getCause());
        } catch (InterruptedException stopped) {
            stop(connection, statement, execution, grace);
            throw stopped;
        }
    }

    private static void stop(Connection connection, Statement statement, FutureTask<JsonNode> execution,
            Duration grace) {
        var giveUp = System.nanoTime() + grace.toNanos();
        // Again while it runs: a cancel that comes before the driver has sent the statement does nothing.
        while (!execution.isDone() && giveUp - System.nanoTime() > 0) {
            try {
                statement.cancel();
                execution.get(CANCEL_AGAIN.toNanos(), TimeUnit.NANOSECONDS);
            } catch (SQLException closed) {
                break;
            } catch (ExecutionException | TimeoutException | InterruptedException notYetOrEnded) {
                // ended (by the cancel, as wanted) or not yet: the loop's condition tells
            }
        }
        if (execution.isDone()) {
            return;
        }
        // The cancel went unanswered. Closing the socket ends the driver's wait, and the pool drops the connection;
        // the server ends the statement at its next check of the client (SqlConfiguration.CHECK_CLIENT).
        try {
            connection.abort(Runnable::run);
        } catch (SQLException closedAlready) {
            // nothing left to close
        }
        while (!execution.isDone()) {
            try {
                execution.get();
            } catch (ExecutionException | InterruptedException ended) {
                // a second interrupt changes nothing now: the connection is not given back while the driver uses it
            }
        }
    }
}
