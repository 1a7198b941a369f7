package dev.conveyor.local;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Remembers the processes of a run in {@code <home>/pids}, so that the next run can stop those that
 * outlived a launcher killed without a chance to clean up (SIGKILL).
 */
final class Leftovers {

    private final Path pidFile;
    private final String marker;

    Leftovers(Path home) {
        this.pidFile = home.resolve("pids");
        this.marker = home.toAbsolutePath().normalize().toString();
    }

    /** Records {@code pids} as this run's processes. */
    void record(List<Long> pids) throws IOException {
        Files.write(pidFile, pids.stream().map(String::valueOf).toList());
    }

    /**
     * Stops the recorded processes that still run and whose command line names this home directory
     * (so a reused pid of an unrelated process is left alone); answers how many it stopped.
     */
    int stopAll(PrintStream out) throws IOException {
        if (!Files.exists(pidFile)) {
            return 0;
        }
        var stopped = 0;
        for (var line : Files.readAllLines(pidFile)) {
            var process = line.isBlank() ? null : ProcessHandle.of(Long.parseLong(line.strip())).orElse(null);
            if (process != null && process.isAlive() && process.info().commandLine().orElse("").contains(marker)) {
                out.println("stopping process " + process.pid() + " left over from an earlier run");
                process.destroy();
                if (!awaitExit(process, Duration.ofSeconds(30))) {
                    process.destroyForcibly();
                }
                stopped++;
            }
        }
        Files.delete(pidFile);
        return stopped;
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
