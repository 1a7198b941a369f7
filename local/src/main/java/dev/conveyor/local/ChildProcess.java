package dev.conveyor.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A child process whose output goes to a log file, and that can be stopped politely (SIGTERM) and
 * then, if it does not go, forcibly.
 */
final class ChildProcess {

    /** {@code setsid} puts a child in its own session, so that a Ctrl-C reaches only the launcher. */
    private static final Path SETSID = Path.of("/usr/bin/setsid");

    private static final Pattern STACK_FRAME = Pattern.compile("\\s+(at |\\.\\.\\. \\d+ (more|common frames omitted)).*");

    private final String name;
    private final List<String> command;
    private final Process process;
    private final Path logFile;

    private ChildProcess(String name, List<String> command, Process process, Path logFile) {
        this.name = name;
        this.command = List.copyOf(command);
        this.process = process;
        this.logFile = logFile;
    }

    /**
     * Starts {@code command} in its own session (where {@code setsid} exists), output and errors
     * appended to {@code logFile}.
     */
    static ChildProcess start(String name, List<String> command, Path logFile) {
        var full = new ArrayList<String>();
        if (Files.isExecutable(SETSID)) {
            full.add(SETSID.toString());
        }
        full.addAll(command);
        try {
            Files.createDirectories(logFile.toAbsolutePath().getParent());
            var process = new ProcessBuilder(full)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
            return new ChildProcess(name, command, process, logFile);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + ": " + e.getMessage(), e);
        }
    }

    String name() {
        return name;
    }

    /** The command it was started with (without {@code setsid}): what starts it again. */
    List<String> command() {
        return command;
    }

    long pid() {
        return process.pid();
    }

    Path logFile() {
        return logFile;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    int exitValue() {
        return process.exitValue();
    }

    CompletableFuture<Process> onExit() {
        return process.onExit();
    }

    /** Waits up to {@code timeout} for the process to end; true when it has. */
    boolean awaitExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    /** Asks the process to stop (SIGTERM), without waiting. */
    void requestStop() {
        process.destroy();
    }

    /** Kills the process at once (SIGKILL), as a crash would, and waits until it is gone. */
    void kill() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        awaitExit(Duration.ofSeconds(30));
    }

    /** Asks the process to stop and waits up to {@code grace}; then kills it. True when it went by itself. */
    boolean stop(Duration grace) {
        requestStop();
        if (awaitExit(grace)) {
            return true;
        }
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        awaitExit(Duration.ofSeconds(10));
        return false;
    }

    /**
     * The last {@code count} lines of the log file without stack frames, to show when something went
     * wrong: what remains is the messages and the "Caused by" lines.
     */
    String tail(int count) {
        try {
            var lines = Files.readAllLines(logFile).stream().filter(line -> !STACK_FRAME.matcher(line).matches()).toList();
            return String.join(System.lineSeparator(), lines.subList(Math.max(0, lines.size() - count), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(cannot read " + logFile + ": " + e.getMessage() + ")";
        }
    }

    @Override
    public String toString() {
        return name + " (pid " + pid() + ")";
    }
}
