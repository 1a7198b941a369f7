package dev.conveyor.local;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/** An embedded PostgreSQL server (zonky binaries) with a fresh {@code conveyor} database. */
final class EmbeddedPostgresService implements AutoCloseable {

    static final String DATABASE = "conveyor";
    /** The database that {@code sql} jobs work on in the demo (see {@code demo-schema.sql}). */
    static final String DEMO_DATABASE = "demo";
    static final String USER = "postgres";
    /** The embedded server trusts local connections; any password is accepted. */
    static final String PASSWORD = "postgres";
    /** Zonky's message when one of PostgreSQL's programs ends with an error: the program is group 1. */
    private static final Pattern FAILED_COMMAND = Pattern.compile("^Process \\[.*?/bin/([\\w.-]+)[,\\]].* failed$");
    /** {@code initdb: error: ...}, {@code pg_ctl: error: ...}: the message is group 1. */
    private static final Pattern PROGRAM_ERROR = Pattern.compile("^[\\w.-]+: (?:error|fatal): (.+)$");
    /** A line of the server's log, {@code ... FATAL:  ...}: the message is group 1. */
    private static final Pattern SERVER_ERROR = Pattern.compile("(?:FATAL|PANIC):\\s+(.+)$");

    private final Path dataDirectory;
    private final Path logFile;
    private final Map<String, String> settings;
    private volatile EmbeddedPostgres postgres;

    private EmbeddedPostgresService(EmbeddedPostgres postgres, Path dataDirectory, Path logFile,
            Map<String, String> settings) {
        this.postgres = postgres;
        this.dataDirectory = dataDirectory;
        this.logFile = logFile;
        this.settings = settings;
    }

    /**
     * Starts a server on {@code port} (0: a free one) with its data in {@code dataDirectory}, which
     * is wiped first, and its log in {@code logFile}.
     */
    static EmbeddedPostgresService start(Path dataDirectory, int port, Path logFile) {
        return start(dataDirectory, port, logFile, Map.of());
    }

    /** The same, with server {@code settings} ({@code postgres -c name=value}) over this class's own. */
    static EmbeddedPostgresService start(Path dataDirectory, int port, Path logFile, Map<String, String> settings) {
        try {
            Files.createDirectories(logFile.toAbsolutePath().getParent());
            FileTrees.delete(dataDirectory);
            Files.createDirectories(dataDirectory.getParent());
            var service = new EmbeddedPostgresService(startServer(dataDirectory, port, logFile, settings),
                    dataDirectory, logFile, settings);
            service.createDatabase();
            service.createDemoDatabase();
            return service;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start embedded PostgreSQL: " + e.getMessage() + " (its log: "
                    + logFile + ")", e);
        }
    }

    /**
     * {@link #server}, a failure of one of PostgreSQL's programs said in one line: zonky's own message names only the
     * command ("Process [.../initdb, -A, trust, ...] failed"), the program's output being in the log.
     */
    private static EmbeddedPostgres startServer(Path dataDirectory, int port, Path logFile, Map<String, String> settings)
            throws IOException {
        var logged = Files.exists(logFile) ? Files.size(logFile) : 0;
        try {
            return server(dataDirectory, port, logFile, settings);
        } catch (IllegalStateException e) {
            var program = FAILED_COMMAND.matcher(String.valueOf(e.getMessage()));
            if (!program.find()) {
                throw e;
            }
            throw new IllegalStateException("PostgreSQL's " + program.group(1) + " failed: "
                    + cause(logFile, logged).orElse("it said nothing") + " (its output: " + logFile + ")", e);
        }
    }

    /**
     * What a failed program said, from what the log got after {@code offset}: its last error line, else its last
     * line.
     */
    static Optional<String> cause(Path logFile, long offset) {
        List<String> lines;
        try (var file = java.nio.channels.FileChannel.open(logFile)) {
            var bytes = java.nio.ByteBuffer.allocate((int) Math.min(Math.max(0, file.size() - offset), 1 << 20));
            file.read(bytes, offset);
            lines = new String(bytes.array(), 0, bytes.position(), java.nio.charset.StandardCharsets.UTF_8).lines()
                    .map(String::strip).filter(line -> !line.isEmpty()).toList();
        } catch (IOException e) {
            return Optional.empty();
        }
        for (var line : lines.reversed()) {
            for (var error : List.of(PROGRAM_ERROR, SERVER_ERROR)) {
                var matcher = error.matcher(line);
                if (matcher.find()) {
                    return Optional.of(matcher.group(1));
                }
            }
        }
        return lines.isEmpty() ? Optional.empty() : Optional.of(lines.getLast());
    }

    /**
     * A server on {@code port} (0: a free one) over {@code dataDirectory}, initialised when it holds no cluster.
     * Zonky's own cleaning is off (this class wipes the directory itself), so that a server can be started again
     * over the data of one that stopped.
     */
    private static EmbeddedPostgres server(Path dataDirectory, int port, Path logFile, Map<String, String> settings)
            throws IOException {
        var builder = EmbeddedPostgres.builder()
                .setDataDirectory(dataDirectory.toAbsolutePath())
                .setCleanDataDirectory(false)
                .setRegisterShutdownHook(false)
                .setPGStartupWait(Duration.ofSeconds(60))
                .setOutputRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .setErrorRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .setServerConfig("max_connections", "200")
                // Zonky turns synchronous_commit off; then a commit (and the api's 202) can precede the WAL flush,
                // and a crash of the server loses jobs the api promised were durable.
                .setServerConfig("synchronous_commit", "on")
                // Zonky turns fsync off too; then that flush stops at the operating system's cache, and a crash of
                // the machine (power, kernel, a VM stopped) loses committed jobs and can leave a corrupt database.
                .setServerConfig("fsync", "on")
                .setServerConfig("full_page_writes", "on");
        settings.forEach(builder::setServerConfig);
        if (port != 0) {
            builder.setPort(port);
        }
        return builder.start();
    }

    /**
     * Stops the server in immediate mode (SIGQUIT to the postmaster, what {@code pg_ctl stop -m immediate} sends):
     * connections are cut, nothing is checkpointed, and the next start recovers from the WAL as after a crash.
     */
    synchronized void stopImmediately() {
        var pid = pid().orElseThrow(() -> new IllegalStateException("PostgreSQL is not running (no postmaster.pid)"));
        var handle = ProcessHandle.of(pid).orElseThrow(() -> new IllegalStateException("no process " + pid));
        try {
            var kill = new ProcessBuilder("kill", "-QUIT", Long.toString(pid)).inheritIO().start();
            if (kill.waitFor() != 0) {
                throw new IllegalStateException("kill -QUIT " + pid + " failed with exit code " + kill.exitValue());
            }
            handle.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot signal PostgreSQL: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping PostgreSQL", e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("PostgreSQL (pid " + pid + ") did not stop within 30 s of SIGQUIT", e);
        }
    }

    /** Starts the server again, after {@link #stopImmediately()}, on the same port and over the same data. */
    synchronized void restart() {
        var port = port();
        var stopped = postgres;
        try {
            // Releases zonky's lock on the data directory; its pg_ctl stop finds nothing to stop.
            stopped.close();
            postgres = startServer(dataDirectory, port, logFile, settings);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start PostgreSQL again: " + e.getMessage(), e);
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

    /**
     * Stops the server and deletes its data. A server that is gone already (it crashed, or was killed: {@code local}
     * then stops everything) is not asked to stop: zonky's {@code pg_ctl stop} fails, and zonky logs that failure
     * with its stack trace on the launcher's console, under the message that said PostgreSQL had ended.
     */
    @Override
    public void close() {
        try {
            if (pid().flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive).isPresent()) {
                postgres.close();
            }
            FileTrees.delete(dataDirectory);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stop embedded PostgreSQL: " + e.getMessage(), e);
        }
    }
}
