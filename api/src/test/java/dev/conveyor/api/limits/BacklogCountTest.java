package dev.conveyor.api.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.auth.Caller;
import dev.conveyor.common.test.TestPostgres;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * {@code queued-per-tenant} counts a tenant's waiting jobs once a second. While one request counts against a slow
 * or unreachable database, the others go on with the last count: before, they queued behind a lock, each waiting
 * out the pool's timeout in turn (64 clients, five minutes for the last).
 */
class BacklogCountTest {

    private final Caller caller = new Caller("key", "tenant", Set.of());

    @Test
    void whileOneRequestCountsTheOthersGoOnWithTheLastCount() throws Exception {
        var database = new HeldDatabase();
        var limits = new Limits(new LimitsProperties(0, 0, 0, 1_000_000, 0, 0, 0), JdbcClient.create(database),
                new SimpleMeterRegistry());
        limits.submitting(caller, 1);
        var counted = System.nanoTime();
        await().until(() -> System.nanoTime() - counted > 1_100_000_000L); // the count is a second old
        database.hold.set(true);
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            try {
                var counting = CompletableFuture.runAsync(() -> limits.submitting(caller, 1), threads);
                await().until(() -> database.waiting.get() == 1);

                var other = CompletableFuture.runAsync(() -> limits.submitting(caller, 1), threads);

                other.get(5, TimeUnit.SECONDS);
                assertThat(counting).isNotDone();
                database.release.countDown();
                counting.get(5, TimeUnit.SECONDS);
            } finally {
                database.release.countDown();
            }
        }
    }

    @Test
    void whenTheFirstCountFailsTheRequestsBehindItFailAtOnce() throws Exception {
        var database = new HeldDatabase();
        database.hold.set(true);
        database.fail.set(true);
        var limits = new Limits(new LimitsProperties(0, 0, 0, 1_000_000, 0, 0, 0), JdbcClient.create(database),
                new SimpleMeterRegistry());
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            try {
                var first = CompletableFuture.runAsync(() -> limits.submitting(caller, 1), threads);
                await().until(() -> database.waiting.get() == 1);
                var behind = CompletableFuture.runAsync(() -> limits.submitting(caller, 1), threads);
                database.release.countDown();

                assertThat(first).failsWithin(Duration.ofSeconds(5));
                assertThat(behind).failsWithin(Duration.ofSeconds(5));
                assertThat(database.asked.get()).isEqualTo(1);
            } finally {
                database.release.countDown();
            }
        }
    }

    /** A database whose connections can be held back (as a pool at its timeout is), then refused or given. */
    private static final class HeldDatabase implements DataSource {

        final AtomicBoolean hold = new AtomicBoolean();
        final AtomicBoolean fail = new AtomicBoolean();
        final AtomicInteger waiting = new AtomicInteger();
        final AtomicInteger asked = new AtomicInteger();
        final CountDownLatch release = new CountDownLatch(1);
        private final DataSource real = withQueueCounts();

        /** A database of its own with the one table the count reads. */
        private static DataSource withQueueCounts() {
            var database = new DriverManagerDataSource(TestPostgres.newDatabase(), "postgres", "");
            JdbcClient.create(database).sql("""
                    CREATE TABLE queue_counts (tenant text, queue text, status text, slot int, n bigint)""").update();
            return database;
        }

        @Override
        public Connection getConnection() throws SQLException {
            asked.incrementAndGet();
            if (hold.get()) {
                waiting.incrementAndGet();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    waiting.decrementAndGet();
                }
                if (fail.get()) {
                    throw new CannotGetJdbcConnectionException("no connection within the pool's timeout (a test)");
                }
            }
            return real.getConnection();
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            return getConnection();
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {
        }

        @Override
        public void setLoginTimeout(int seconds) {
        }

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() {
            return Logger.getGlobal();
        }

        @Override
        public <T> T unwrap(Class<T> iface) throws SQLException {
            throw new SQLException("not a wrapper");
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) {
            return false;
        }
    }
}
