package dev.conveyor.local;

import java.nio.file.Path;
import java.util.List;

/**
 * Stops the embedded PostgreSQL once the launcher is gone, as {@link Tether} stops the JVMs: zonky's {@code pg_ctl}
 * starts the server outside this JVM's children, and a launcher killed with SIGKILL left it running until the next
 * start with the same home. A shell loop, not a JVM: it looks once a second whether the launcher is there, and when it
 * is not, asks the server for a fast shutdown (SIGINT, {@code pg_ctl stop -m fast}), if that pid is still a server of
 * this data directory (Linux's {@code /proc}; elsewhere it stops nothing).
 */
final class PostgresTether {

    private PostgresTether() {
    }

    /** Starts the watch; it ends by itself soon after the launcher. */
    static ChildProcess start(long launcher, long postmaster, Path dataDirectory, Path logFile) {
        return ChildProcess.start("postgres-tether", command(launcher, postmaster, dataDirectory), logFile);
    }

    static List<String> command(long launcher, long postmaster, Path dataDirectory) {
        var script = """
                while kill -0 %1$d 2>/dev/null; do sleep 1; done
                if grep -qF -- "$0" /proc/%2$d/cmdline 2>/dev/null; then
                  echo "conveyor-local (pid %1$d) is gone: stopping PostgreSQL (pid %2$d)"
                  kill -INT %2$d
                fi
                """.formatted(launcher, postmaster);
        // the directory goes as an argument, not into the script: no quoting to get wrong
        return List.of("/bin/sh", "-c", script, dataDirectory.toAbsolutePath().normalize().toString());
    }
}
