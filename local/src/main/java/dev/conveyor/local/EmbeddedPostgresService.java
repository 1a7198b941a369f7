package dev.conveyor.local;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;

/** An embedded PostgreSQL server (zonky binaries) with a fresh {@code conveyor} database. */
final class EmbeddedPostgresService implements AutoCloseable {

    static final String DATABASE = "conveyor";
    /** The database that {@code sql} jobs work on in the demo (see {@code demo-schema.sql}). */
    static final String DEMO_DATABASE = "demo";
    static final String USER = "postgres";
    /** The embedded server trusts local connections; any password is accepted. */
    static final String PASSWORD = "postgres";

    private final EmbeddedPostgres postgres;
    private final Path dataDirectory;

    private EmbeddedPostgresService(EmbeddedPostgres postgres, Path dataDirectory) {
        this.postgres = postgres;
        this.dataDirectory = dataDirectory;
    }

    /**
     * Starts a server on {@code port} (0: a free one) with its data in {@code dataDirectory}, which
     * is wiped first, and its log in {@code logFile}.
     */
    static EmbeddedPostgresService start(Path dataDirectory, int port, Path logFile) {
        try {
            Files.createDirectories(logFile.toAbsolutePath().getParent());
            FileTrees.delete(dataDirectory);
            Files.createDirectories(dataDirectory.getParent());
            var builder = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDirectory.toAbsolutePath())
                    .setCleanDataDirectory(true)
                    .setRegisterShutdownHook(false)
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .setOutputRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .setErrorRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .setServerConfig("max_connections", "200");
            if (port != 0) {
                builder.setPort(port);
            }
            var service = new EmbeddedPostgresService(builder.start(), dataDirectory);
            service.createDatabase();
            service.createDemoDatabase();
            return service;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start embedded PostgreSQL: " + e.getMessage(), e);
        }
    }

    int port() {
        return postgres.getPort();
    }

    /** The server's pid, from the first line of {@code postmaster.pid}, when it can be read. */
    Optional<Long> pid() {
        try (var lines = Files.lines(dataDirectory.resolve("postmaster.pid"))) {
            return lines.findFirst().map(String::strip).map(Long::valueOf);
        } catch (IOException | UncheckedIOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    String jdbcUrl() {
        return "jdbc:postgresql://localhost:" + port() + "/" + DATABASE;
    }

    String demoJdbcUrl() {
        return "jdbc:postgresql://localhost:" + port() + "/" + DEMO_DATABASE;
    }

    private void createDatabase() {
        try (var connection = postgres.getPostgresDatabase().getConnection();
             var statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + DATABASE);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + DATABASE + ": " + e.getMessage(), e);
        }
    }

    private void createDemoDatabase() throws IOException {
        String schema;
        try (var in = EmbeddedPostgresService.class.getResourceAsStream("demo-schema.sql")) {
            schema = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        try (var connection = postgres.getPostgresDatabase().getConnection();
             var statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + DEMO_DATABASE);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + DEMO_DATABASE + ": " + e.getMessage(), e);
        }
        try (var connection = postgres.getDatabase(USER, DEMO_DATABASE).getConnection();
             var statement = connection.createStatement()) {
            statement.execute(schema);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot fill database " + DEMO_DATABASE + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stop embedded PostgreSQL: " + e.getMessage(), e);
        }
    }
}
