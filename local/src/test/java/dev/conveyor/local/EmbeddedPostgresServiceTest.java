package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class EmbeddedPostgresServiceTest {

    @TempDir
    Path dir;

    @Test
    void servesAFreshConveyorDatabaseAndStopsOnClose() throws Exception {
        var dataDirectory = dir.resolve("data/postgres");
        Files.createDirectories(dataDirectory);
        Files.writeString(dataDirectory.resolve("stale-file"), "from an earlier run");
        var postgres = EmbeddedPostgresService.start(dataDirectory, 0, dir.resolve("logs/postgres.log"));
        long pid;
        try {
            try (var connection = DriverManager.getConnection(postgres.jdbcUrl(), EmbeddedPostgresService.USER,
                    EmbeddedPostgresService.PASSWORD);
                 var result = connection.createStatement().executeQuery(
                         "SELECT current_database(), current_setting('server_version_num')::int")) {
                result.next();
                assertThat(result.getString(1)).isEqualTo("conveyor");
                assertThat(result.getInt(2)).isGreaterThanOrEqualTo(180000);
            }
            try (var connection = DriverManager.getConnection(postgres.jdbcUrl(), EmbeddedPostgresService.USER,
                    EmbeddedPostgresService.PASSWORD);
                 var result = connection.createStatement().executeQuery("SELECT current_setting('fsync'),"
                         + " current_setting('synchronous_commit'), current_setting('full_page_writes')")) {
                result.next();
                // a commit (and the api's 202) waits until the disk has it: zonky's defaults would not
                assertThat(result.getString(1)).as("fsync").isEqualTo("on");
                assertThat(result.getString(2)).as("synchronous_commit").isEqualTo("on");
                assertThat(result.getString(3)).as("full_page_writes").isEqualTo("on");
            }
            assertThat(postgres.jdbcUrl()).isEqualTo("jdbc:postgresql://localhost:" + postgres.port() + "/conveyor");
            assertThat(dataDirectory.resolve("stale-file")).doesNotExist();
            pid = postgres.pid().orElseThrow();
            assertThat(ProcessHandle.of(pid)).isPresent();
        } finally {
            postgres.close();
        }

        await().atMost(Duration.ofSeconds(20)).until(() -> ProcessHandle.of(pid).isEmpty());
        assertThat(dir.resolve("logs/postgres.log")).exists();
    }

    /** A server that died (local then stops everything) is not asked to stop: that logged a stack trace. */
    @Test
    void closesAServerThatIsGoneAlreadyQuietly() throws Exception {
        var dataDirectory = dir.resolve("data/postgres");
        var postgres = EmbeddedPostgresService.start(dataDirectory, 0, dir.resolve("logs/postgres.log"));
        var zonky = (Logger) LoggerFactory.getLogger(EmbeddedPostgres.class);
        var events = new ListAppender<ILoggingEvent>();
        events.start();
        zonky.addAppender(events);
        try {
            postgres.stopImmediately();

            postgres.close();

            assertThat(events.list).noneMatch(event -> event.getLevel().isGreaterOrEqual(Level.WARN));
            assertThat(dataDirectory).doesNotExist();
        } finally {
            zonky.detachAppender(events);
        }
    }

    @Test
    void takesServerSettingsOverItsOwnAndKeepsThemAcrossARestart() throws Exception {
        var postgres = EmbeddedPostgresService.start(dir.resolve("data/postgres"), 0,
                dir.resolve("logs/postgres.log"), Map.of("work_mem", "12MB", "max_connections", "50",
                        "shared_preload_libraries", "pg_stat_statements"));
        try {
            assertThat(settings(postgres)).containsExactly("12MB", "50", "pg_stat_statements");
            postgres.stopImmediately();
            postgres.restart();
            assertThat(settings(postgres)).containsExactly("12MB", "50", "pg_stat_statements");
        } finally {
            postgres.close();
        }
    }

    private static List<String> settings(EmbeddedPostgresService postgres) throws Exception {
        try (var connection = DriverManager.getConnection(postgres.jdbcUrl(), EmbeddedPostgresService.USER,
                EmbeddedPostgresService.PASSWORD);
             var result = connection.createStatement().executeQuery("SELECT current_setting('work_mem'),"
                     + " current_setting('max_connections'), current_setting('shared_preload_libraries')")) {
            result.next();
            return List.of(result.getString(1), result.getString(2), result.getString(3));
        }
    }

    @Test
    void stopsImmediatelyAndStartsAgainOnTheSamePortWithTheSameData() throws Exception {
        var postgres = EmbeddedPostgresService.start(dir.resolve("data/postgres"), 0, dir.resolve("logs/postgres.log"));
        try {
            var port = postgres.port();
            execute(postgres, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)");
            var pid = postgres.pid().orElseThrow();

            postgres.stopImmediately();

            assertThat(ProcessHandle.of(pid)).isEmpty();
            postgres.restart();
            assertThat(postgres.port()).isEqualTo(port);
            try (var connection = DriverManager.getConnection(postgres.jdbcUrl(), EmbeddedPostgresService.USER,
                    EmbeddedPostgresService.PASSWORD);
                 var result = connection.createStatement().executeQuery("SELECT n FROM kept")) {
                assertThat(result.next()).isTrue();
                assertThat(result.getInt(1)).isEqualTo(42);
            }
        } finally {
            postgres.close();
        }
        assertThat(dir.resolve("data/postgres")).doesNotExist();
    }

    @Test
    void findsWhatAFailedProgramSaidInWhatTheLogGotSinceItStarted() throws Exception {
        var log = dir.resolve("postgres.log");
        Files.writeString(log, "initdb: error: from an earlier start\n");
        var offset = Files.size(log);
        Files.writeString(log, "The files belonging to this database system will be owned by user \"nobody\".\n"
                + "initdb: error: invalid locale settings; check LANG and LC_* environment variables\n\n",
                java.nio.file.StandardOpenOption.APPEND);

        assertThat(EmbeddedPostgresService.cause(log, offset))
                .contains("invalid locale settings; check LANG and LC_* environment variables");
        Files.writeString(log, "2026-12-07 12:00:00.000 UTC [42] FATAL:  could not create lock file: No space left\n"
                + "pg_ctl: could not start server\n", java.nio.file.StandardOpenOption.APPEND);
        assertThat(EmbeddedPostgresService.cause(log, offset)).contains("could not create lock file: No space left");
        assertThat(EmbeddedPostgresService.cause(log, Files.size(log))).isEmpty();
        assertThat(EmbeddedPostgresService.cause(dir.resolve("no-such.log"), 0)).isEmpty();
    }

    private static void execute(EmbeddedPostgresService postgres, String sql) throws Exception {
        try (var connection = DriverManager.getConnection(postgres.jdbcUrl(), EmbeddedPostgresService.USER,
                EmbeddedPostgresService.PASSWORD)) {
            connection.createStatement().execute(sql);
        }
    }
}
