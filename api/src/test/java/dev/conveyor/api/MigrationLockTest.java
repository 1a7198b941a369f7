package dev.conveyor.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.common.test.TestPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * An upgrade ("Upgrade the api" in the README): the new api migrates while apis of the old version go on writing to
 * {@code jobs}. A migration that changes a table waits for its lock behind the old apis' open transactions, and every
 * statement of the job flow on that table queues behind the waiting migration: the migration gives up after
 * {@code conveyor.api.migration-lock-timeout}, so that the job flow is held that long at most, the api does not
 * start, saying why, and its next start tries again. An index built {@code CONCURRENTLY} holds nobody while it waits,
 * and waits as long as it must (given up, it would leave an invalid index behind). A migration that runs longer than
 * a transaction of the api may stay idle is recorded with its changes.
 */
class MigrationLockTest {

    /** What every write of an old api takes on jobs (ROW EXCLUSIVE), held by its open transaction. */
    private static final String WRITE = "UPDATE jobs SET attempts = attempts WHERE id IS NULL";
    private static final Duration LOCK_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration START = Duration.ofSeconds(60);

    /** Not the common pool: on two cores it has one thread, and a start waiting on it holds up the writes. */
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    @Test
    void aMigrationWaitingForALockGivesUpSoonSoThatTheJobFlowGoesOnAndTheNextStartMigrates() throws Exception {
        var url = runningVersion();
        CompletableFuture<ConfigurableApplicationContext> start;
        try (var oldApi = connect(url); var flow = connect(url)) {
            oldApi.setAutoCommit(false);
            oldApi.createStatement().execute(WRITE);
            start = CompletableFuture.supplyAsync(() -> newApi(url, "alter"), threads);
            try {
                await().atMost(START).pollInterval(Duration.ofMillis(50)).until(() -> waiting(flow, "ALTER TABLE"));
                var write = CompletableFuture.runAsync(() -> execute(flow, WRITE), threads);

                assertThat(write).as("the job flow's next write, queued behind the migration")
                        .succeedsWithin(LOCK_TIMEOUT.multipliedBy(5));
                assertThat(start).failsWithin(LOCK_TIMEOUT.multipliedBy(5)).withThrowableThat()
                        .satisfies(e -> assertThat(lockTimeout(e)).as("the cause: %s", e).isTrue());
                var analysis = new MigrationLockFailure().analyze(start.handle((api, e) -> e).get());
                assertThat(analysis).extracting(FailureAnalysis::getDescription).asString()
                        .contains("V14", "conveyor.api.migration-lock-timeout", "rolled back");
                assertThat(analysis.getAction()).contains("Start the api again");
            } finally {
                oldApi.rollback();
                start.thenAccept(ConfigurableApplicationContext::close);
            }
        }
        try (var api = newApi(url, "alter")) {
            assertThat(JdbcClient.create(api.getBean(DataSource.class))
                    .sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'jobs'"
                            + " AND column_name = 'upgrade_test'").query(Integer.class).single())
                    .as("V14, migrated by the next start").isOne();
            assertThat(lockTimeouts(api.getBean(DataSource.class))).as("connections of the pool, once migrated")
                    .containsOnly("0");
        }
    }

    /**
     * Also: with Flyway's default lock, held in a transaction of a connection of its own, the build waited for that
     * transaction too, until PostgreSQL ended it as idle (60 s), and the start failed.
     */
    @Test
    void anIndexBuiltConcurrentlyWaitsForTheWritersPastTheLockTimeout() throws Exception {
        var url = runningVersion();
        CompletableFuture<ConfigurableApplicationContext> start;
        try (var oldApi = connect(url); var flow = connect(url)) {
            oldApi.setAutoCommit(false);
            oldApi.createStatement().execute(WRITE);
            start = CompletableFuture.supplyAsync(() -> newApi(url, "concurrently"), threads);
            try {
                await().atMost(START).until(() -> waiting(flow, "CREATE INDEX CONCURRENTLY"));
                var write = CompletableFuture.runAsync(() -> execute(flow, WRITE), threads);
                assertThat(write).as("the job flow's write beside the build").succeedsWithin(LOCK_TIMEOUT);
                await().during(LOCK_TIMEOUT.multipliedBy(2)).atMost(LOCK_TIMEOUT.multipliedBy(3))
                        .until(() -> !start.isDone() && waiting(flow, "CREATE INDEX CONCURRENTLY"));
            } finally {
                oldApi.rollback();
            }
        }
        try (var api = start.get(START.toSeconds(), TimeUnit.SECONDS)) {
            assertThat(JdbcClient.create(api.getBean(DataSource.class))
                    .sql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'jobs_upgrade_test'::regclass")
                    .query(Boolean.class).single()).as("the index, built once the writers were done").isTrue();
        }
    }

    /**
     * A long migration is recorded, and the other replicas, which wait for the one migrating, wait for it as long as
     * their startup probe lets them (deploy/kubernetes/api.yaml: 10 minutes); Flyway's own 50 tries, a second apart,
     * failed their start after 50 s.
     */
    @Test
    void aMigrationLongerThanAnIdleTransactionMayLastIsRecorded() {
        var url = runningVersion();
        try (var api = ApiTests.startOn(url,
                "--spring.flyway.locations=classpath:db/migration,classpath:db/upgrade-test/slow",
                "--spring.datasource.hikari.connection-init-sql=SET idle_in_transaction_session_timeout = '1s'")) {
            assertThat(JdbcClient.create(api.getBean(DataSource.class))
                    .sql("SELECT success FROM flyway_schema_history WHERE version = '14'").query(Boolean.class)
                    .optional()).as("V14, recorded as applied").contains(true);
            assertThat(api.getBean(Flyway.class).getConfiguration().getLockRetryCount())
                    .as("seconds a replica waits for another's migration").isGreaterThanOrEqualTo(600);
        }
    }

    /** A database as the version running before the upgrade left it: the released migrations, V1 to V13. */
    private static String runningVersion() {
        var url = TestPostgres.newDatabase();
        Flyway.configure().dataSource(url, "postgres", "").load().migrate();
        return url;
    }

    private static ConfigurableApplicationContext newApi(String url, String release) {
        return ApiTests.startOn(url,
                "--spring.flyway.locations=classpath:db/migration,classpath:db/upgrade-test/" + release,
                "--conveyor.api.migration-lock-timeout=" + LOCK_TIMEOUT.toMillis() + "ms");
    }

    private static Connection connect(String url) throws SQLException {
        return DriverManager.getConnection(url, "postgres", "");
    }

    private static void execute(Connection connection, String sql) {
        try (var statement = connection.createStatement()) {
            statement.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether a statement holding {@code sql} waits for a lock. */
    private static boolean waiting(Connection connection, String sql) throws SQLException {
        try (var statement = connection.prepareStatement("SELECT count(*) FROM pg_stat_activity"
                + " WHERE wait_event_type = 'Lock' AND query ILIKE ? AND datname = current_database()")) {
            statement.setString(1, "%" + sql + "%");
            try (var rows = statement.executeQuery()) {
                return rows.next() && rows.getInt(1) > 0;
            }
        }
    }

    private static boolean lockTimeout(Throwable failure) {
        for (var cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLException e && "55P03".equals(e.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    /** {@code lock_timeout} on ten connections of the pool (half of it: the api uses some), taken at once. */
    private static ArrayList<String> lockTimeouts(DataSource pool) throws SQLException {
        var connections = new ArrayList<Connection>();
        var timeouts = new ArrayList<String>();
        try {
            for (var i = 0; i < 10; i++) {
                var connection = pool.getConnection();
                connections.add(connection);
                try (var rows = connection.createStatement().executeQuery("SHOW lock_timeout")) {
                    rows.next();
                    timeouts.add(rows.getString(1));
                }
            }
        } finally {
            for (var connection : connections) {
                connection.close();
            }
        }
        return timeouts;
    }
}
