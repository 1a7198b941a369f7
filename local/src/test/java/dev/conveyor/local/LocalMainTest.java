package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalMainTest {

    @TempDir
    Path home;

    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);

    @Test
    void refusesAnApiPortThatIsInUseBeforeStartingAnything() throws Exception {
        int port;
        try (var busy = new ServerSocket(0, 1, InetAddress.getByName("0.0.0.0"))) {
            port = busy.getLocalPort();
            var options = LocalOptions.parse("--port=" + port, "--home=" + home);

            assertThat(LocalMain.run(options, out)).isEqualTo(1);
        }
        assertThat(output.toString(StandardCharsets.UTF_8)).contains("is in use; choose another with --port=N");
        assertThat(home.resolve("logs")).doesNotExist();
        assertThat(PortClaims.file(PortClaims.DIRECTORY, port)).as("its lock file, let go").doesNotExist();
    }

    /**
     * Two launchers started at once with different homes both found the port free; the second then took the first's
     * api for its own. The port is claimed among launchers before anything starts.
     */
    @Test
    void refusesAPortThatAnotherLauncherHasClaimedThoughNothingListensYet() throws Exception {
        var port = freePort();
        var holder = ChildProcess.start("lock-holder", JavaLauncher.current().command(LockHolder.class.getName(),
                List.of(), List.of(PortClaims.file(PortClaims.DIRECTORY, port).toString())), home.resolve("holder.log"));
        try {
            await().until(() -> Files.exists(home.resolve("holder.log"))
                    && Files.readString(home.resolve("holder.log")).contains("locked"));

            assertThat(LocalMain.run(LocalOptions.parse("--port=" + port, "--home=" + home.resolve("second")), out))
                    .isEqualTo(1);

            assertThat(output.toString(StandardCharsets.UTF_8))
                    .contains("port " + port + " is taken by another conveyor-local; choose another with --port=N");
            assertThat(home.resolve("second").resolve("logs")).doesNotExist();
        } finally {
            holder.stop(Duration.ofSeconds(5));
        }
    }

    /** A home that cannot be made (here a file is in the way; a read-only disk is alike) is a message, not a trace. */
    @Test
    void saysWhyAHomeCannotBeUsedInsteadOfThrowing() throws Exception {
        var file = home.resolve("a-file");
        Files.writeString(file, "not a directory");

        assertThat(LocalMain.run(LocalOptions.parse("--home=" + file.resolve("home"), "--port=" + freePort()), out))
                .isEqualTo(1);

        assertThat(output.toString(StandardCharsets.UTF_8)).contains("conveyor-local: cannot use "
                + file.resolve("home").toAbsolutePath() + " as its home (", "Not a directory", "--home=DIR");
    }

    /**
     * PostgreSQL's {@code initdb} fails here for want of a locale (a locale the machine lacks in {@code LC_ALL}; a full
     * disk is alike): local said only "Process [unshare, -U, .../initdb, -A, trust, ...] failed", initdb's own words
     * being in the log alone.
     */
    @Test
    void saysWhatInitdbSaidWhenItFailsInOneLine() throws Exception {
        var launcher = new ProcessBuilder(JavaLauncher.current().command(LocalMain.class.getName(), List.of(),
                List.of("--home=" + home, "--port=" + freePort())))
                .redirectErrorStream(true).redirectOutput(home.resolveSibling(home.getFileName() + ".out").toFile());
        launcher.environment().put("LC_ALL", "xx_YY.UTF-8");

        var exit = launcher.start();

        await().atMost(Duration.ofSeconds(120)).until(() -> !exit.isAlive());
        var said = Files.readString(launcher.redirectOutput().file().toPath());
        var log = home.resolve("logs/postgres.log").toAbsolutePath();
        assertThat(exit.exitValue()).isEqualTo(1);
        assertThat(said).contains("starting PostgreSQL... FAILED", "conveyor-local: PostgreSQL's initdb failed: invalid "
                + "locale settings; check LANG and LC_* environment variables (its output: " + log + ")");
        assertThat(said).as("no stack trace, nor zonky's message").doesNotContain("\tat ", "Exception", "Process [");
        assertThat(log).content().contains("initdb: error: invalid locale settings");
    }

    /**
     * Each start deletes its home's {@code logs} and {@code data/postgres}, {@code data/kafka}: given a directory of
     * the user's ({@code --home=.} in a project, {@code --home=$HOME}), it deleted a {@code logs} directory it had not
     * made, with whatever was in it.
     */
    @Test
    void refusesAHomeWhoseLogsOrDataItDidNotMakeAndDeletesNothing() throws Exception {
        var theirs = home.resolve("logs").resolve("app.log");
        Files.createDirectories(theirs.getParent());
        Files.writeString(theirs, "a user's log");

        assertThat(LocalMain.run(LocalOptions.parse("--home=" + home), out)).isEqualTo(1);

        assertThat(theirs).hasContent("a user's log");
        assertThat(output.toString(StandardCharsets.UTF_8)).contains("conveyor-local did not make",
                home.resolve("logs").toString(), "--home=DIR");
        assertThat(home.resolve("lock")).doesNotExist();

        var data = home.resolve("other").resolve("data").resolve("postgres");
        Files.createDirectories(data);
        assertThat(LocalMain.run(LocalOptions.parse("--home=" + home.resolve("other")), out)).isEqualTo(1);
        assertThat(data).exists();
    }

    /** A home an earlier conveyor-local made (its lock file, no mark yet) is still its own. */
    @Test
    void takesAHomeThatItMadeBeforeAndMarksANewOne() throws Exception {
        var earlier = home.resolve("earlier");
        Files.createDirectories(earlier.resolve("logs"));
        Files.createFile(earlier.resolve("lock"));
        assertThat(LocalHome.claim(earlier)).isEmpty();
        assertThat(earlier.resolve(LocalHome.MARK)).exists();

        var fresh = home.resolve("fresh");
        assertThat(LocalHome.claim(fresh)).isEmpty();
        assertThat(fresh.resolve(LocalHome.MARK)).exists();
        Files.createDirectories(fresh.resolve("logs"));
        assertThat(LocalHome.claim(fresh)).isEmpty();
    }

    @Test
    void refusesToShareItsHomeWithAnotherRunningLauncher() throws Exception {
        Files.createDirectories(home);
        // Within one JVM a second lock attempt throws instead of answering null, so another process holds it.
        var holder = ChildProcess.start("lock-holder", JavaLauncher.current().command(LockHolder.class.getName(),
                List.of(), List.of(home.resolve("lock").toString())), home.resolve("holder.log"));
        try {
            await().until(() -> Files.exists(home.resolve("holder.log"))
                    && Files.readString(home.resolve("holder.log")).contains("locked"));

            assertThat(LocalMain.run(LocalOptions.parse("--home=" + home), out)).isEqualTo(1);

            assertThat(output.toString(StandardCharsets.UTF_8)).contains("another conveyor-local is running");
        } finally {
            holder.stop(Duration.ofSeconds(5));
        }
    }

    private static int freePort() throws Exception {
        try (var socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
