package dev.conveyor.worker.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.test.TestPostgres;
import dev.conveyor.worker.Deadlines;
import dev.conveyor.worker.SqlSettings;
import dev.conveyor.worker.SqlSettings.Kind;
import dev.conveyor.worker.SqlSettings.Statement;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * An {@code sql} job stopped by its deadline or a cancel, as the worker's attempt stops it (an interrupt of the
 * handler's thread), while its statement waits on a row another session holds: the statement must end on the server
 * too, not run on and commit once the lock comes free.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StoppedStatementsTest {

    private static final Map<String, Statement> STATEMENTS = Map.of(
            "setup", new Statement("CREATE TABLE account (id bigint PRIMARY KEY, balance bigint NOT NULL)",
                    Kind.UPDATE),
            "open", new Statement("INSERT INTO account VALUES (:id, 0)", Kind.UPDATE),
            "credit", new Statement("UPDATE account SET balance = balance + 1 WHERE id = :id", Kind.UPDATE));
    private static final AtomicLong IDS = new AtomicLong();

    private final String url = TestPostgres.newDatabase();
    private final SqlSettings settings = new SqlSettings(url, "postgres", "", 2, Duration.ofSeconds(5), 10,
            STATEMENTS);
    private HikariDataSource pool;
    private SqlJobHandler handler;
    private Connection observer;

    @BeforeAll
    void start() throws Exception {
        pool = SqlConfiguration.pool(settings, SqlJobHandler.readLimit(1 << 20));
        handler = new SqlJobHandler(settings, pool, SqlJobHandler.readLimit(1 << 20));
        handler.handle(context("{\"statement\": \"setup\"}", Duration.ofSeconds(30)));
        observer = DriverManager.getConnection(url, "postgres", "");
    }

    @AfterAll
    void stop() throws SQLException {
        observer.close();
        pool.close();
    }

    @Test
    void aStatementPastItsDeadlineIsCancelledOnTheServer() throws Exception {
        // pgjdbc's own timer, from setQueryTimeout's whole seconds, would be due half a second later
        stoppedWhileWaitingOnALock(Duration.ofMillis(1_500), job ->
                // as the worker's attempt does at the deadline
                Deadlines.after(job.context.deadline().toEpochMilli() - System.currentTimeMillis(),
                        job.thread::interrupt));
    }

    @Test
    void aCancelledStatementIsCancelledOnTheServer() throws Exception {
        stoppedWhileWaitingOnALock(Duration.ofSeconds(60), job -> {
            await().atMost(Duration.ofSeconds(10)).until(() -> poolBackendsWaitingOnALock() == 1);
            // as the worker's attempt does when the job is cancelled
            job.thread.interrupt();
        });
    }

    /**
     * Runs a credit of an account whose row another session holds, stops the job with {@code stop}, and checks that
     * the statement ended on the server: none of the pool's backends waits on the lock, and once the lock is free the
     * credit has not been made.
     */
    private void stoppedWhileWaitingOnALock(Duration timeout, Stop stop) throws Exception {
        var id = newAccount();
        Job job;
        try (var locker = lock(id)) {
            job = start(credit(id), timeout);
            stop.stop(job);
            await().atMost(Duration.ofSeconds(10)).until(job.ended::isDone);

            await().atMost(Duration.ofSeconds(10)).until(() -> poolBackendsWaitingOnALock() == 0);
            locker.commit();
        }
        assertThat(balance(id)).isZero();
        assertThat(job.ended).failsWithin(Duration.ZERO).withThrowableOfType(ExecutionException.class)
                .withCauseInstanceOf(InterruptedException.class);
    }

    @FunctionalInterface
    private interface Stop {
        void stop(Job job) throws Exception;
    }

    @Test
    void aStatementWhoseClientIsGoneEndsOnTheServer() throws Exception {
        var id = newAccount();
        try (var locker = lock(id)) {
            // no cancel request: the socket closes under the statement, as when the worker is killed
            var gone = new CompletableFuture<Void>();
            var thread = Thread.ofVirtual().start(() -> {
                try (var connection = pool.getConnection();
                        var update = connection.prepareStatement("UPDATE account SET balance = 1 WHERE id = ?")) {
                    update.setLong(1, id);
                    update.executeUpdate();
                } catch (SQLException closedByTheInterrupt) {
                    gone.complete(null);
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> poolBackendsWaitingOnALock() == 1);
            thread.interrupt();
            assertThat(gone).succeedsWithin(Duration.ofSeconds(10));

            await().atMost(Duration.ofSeconds(10)).until(() -> poolBackendsWaitingOnALock() == 0);
            locker.commit();
        }
        assertThat(balance(id)).isZero();
    }

    private record Job(JobContext context, Thread thread, CompletableFuture<Void> ended) {
    }

    private Job start(String payload, Duration timeout) {
        var ended = new CompletableFuture<Void>();
        var context = context(payload, timeout);
        var thread = Thread.ofVirtual().start(() -> {
            try {
                handler.handle(context);
                ended.complete(null);
            } catch (Exception stopped) {
                ended.completeExceptionally(stopped);
            }
        });
        return new Job(context, thread, ended);
    }

    private JobContext context(String payload, Duration timeout) {
        return new JobContext(UUID.randomUUID(), "sql", "default", 1, 3, Json.tree(payload),
                Instant.now().plus(timeout));
    }

    private static String credit(long id) {
        return "{\"statement\": \"credit\", \"params\": {\"id\": " + id + "}}";
    }

    private long newAccount() throws Exception {
        var id = IDS.incrementAndGet();
        handler.handle(context("{\"statement\": \"open\", \"params\": {\"id\": " + id + "}}", Duration.ofSeconds(30)));
        return id;
    }

    /** A session of its own holding the account's row until it commits. */
    private Connection lock(long id) throws SQLException {
        var locker = DriverManager.getConnection(url, "postgres", "");
        locker.setAutoCommit(false);
        try (var select = locker.prepareStatement("SELECT id FROM account WHERE id = ? FOR UPDATE")) {
            select.setLong(1, id);
            select.executeQuery().close();
        }
        return locker;
    }

    private int poolBackendsWaitingOnALock() throws SQLException {
        try (var query = observer.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                + "current_database() AND application_name = 'conveyor-worker' AND wait_event_type = 'Lock'");
                var rows = query.executeQuery()) {
            rows.next();
            return rows.getInt(1);
        }
    }

    private long balance(long id) throws SQLException {
        try (var query = observer.prepareStatement("SELECT balance FROM account WHERE id = ?")) {
            query.setLong(1, id);
            try (var rows = query.executeQuery()) {
                rows.next();
                return rows.getLong(1);
            }
        }
    }
}
