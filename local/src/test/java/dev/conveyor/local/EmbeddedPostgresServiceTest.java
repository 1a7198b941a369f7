package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
}
