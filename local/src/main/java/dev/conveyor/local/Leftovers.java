package dev.conveyor.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Remembers the processes of a run in {@code <home>/pids}, so that the next run can stop those that
 * outlived a launcher killed without a chance to clean up (SIGKILL). Each is noted as it is launched, not once all
 * are up: a launcher killed during its start (a minute and more on a busy machine) left PostgreSQL, Kafka and an api
 * holding the port running for good, the next run knowing none of them.
 */
final class Leftovers {

    private final Path pidFile;
    private final Path postmasterPid;
    private final String marker;

    Leftovers(Path home) {
        this.pidFile = home.resolve("pids");
        // Where the embedded PostgreSQL's server writes its pid as it starts, before local can know it.
        this.postmasterPid = home.resolve("data").resolve("postgres").resolve("postmaster.pid");
        this.marker = home.toAbsolutePath().normalize().toString();
    }

    /** Records {@code pids} as this run's processes, in the order to stop them. */
    void record(List<Long> pids) throws IOException {
        Files.write(pidFile, pids.stream().map(String::valueOf).toList());
    }

    /** Adds {@code pid} to this run's processes, as soon as it is launched. */
    void add(long pid) {
        try {
            Files.createDirectories(pidFile.getParent());
            Files.writeString(pidFile, pid + System.lineSeparator(), StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot note pid " + pid + " in " + pidFile + ": " + e.getMessage(), e);
        }
    }

    /**
     * Stops the recorded processes that still run and whose command line names this home directory
     * (so a reused pid of an unrelated process is left alone); answers how many it stopped.
     */
    int stopAll(PrintStream out) throws IOException {
        var lines = new ArrayList<String>();
        if (Files.exists(pidFile)) {
            lines.addAll(Files.readAllLines(pidFile));
        }
        if (Files.exists(postmasterPid)) {
            Files.readAllLines(postmasterPid).stream().limit(1).forEach(lines::add);
        }
        var stopped = 0;
        for (var line : lines.stream().distinct().toList()) {
            var process = pid(line).flatMap(ProcessHandle::of).orElse(null);
            if (process != null && process.isAlive() && process.info().commandLine().orElse("").contains(marker)) {
                out.println("stopping process " + process.pid() + " left over from an earlier run");
                process.destroy();
                if (!awaitExit(process, Duration.ofSeconds(30))) {
                    process.destroyForcibly();
                }
                stopped++;
            }
        }
        Files.deleteIfExists(pidFile);
        return stopped;
    }

    private static Optional<Long> pid(String line) {
        try {
            return line.isBlank() ? Optional.empty() : Optional.of(Long.parseLong(line.strip()));
        } catch (NumberFormatException e) {
            return Optional.empty(); // a line cut short by a full disk, or a crash while it was written
        }
    }

    private static boolean awaitExit(ProcessHandle process, Duration timeout) {
        try {
            process.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (Exception e) {
            return !process.isAlive();
        }
    }
}
