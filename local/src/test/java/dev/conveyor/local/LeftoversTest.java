package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the next run stops of a run whose launcher was killed (SIGKILL), during its start or after it. */
class LeftoversTest {

    @TempDir
    Path home;

    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);
    private final List<ChildProcess> children = new ArrayList<>();

    @AfterEach
    void stopChildren() {
        children.forEach(ChildProcess::kill);
    }

    @Test
    void stopsWhatARunNotedAsItLaunchedThemWithoutTouchingOtherProcesses() throws Exception {
        var ours = child(home);
        var other = child(home.resolve("..").resolve("another-home").normalize());
        var leftovers = new Leftovers(home);
        leftovers.add(ours.pid());
        leftovers.add(other.pid());
        leftovers.add(ProcessHandle.current().pid()); // a reused pid: its command line does not name the home

        var stopped = new Leftovers(home).stopAll(out);

        assertThat(stopped).isEqualTo(1);
        assertThat(ours.isAlive()).isFalse();
        assertThat(other.isAlive()).isTrue();
        assertThat(home.resolve("pids")).doesNotExist();
        assertThat(output.toString(StandardCharsets.UTF_8))
                .contains("stopping process " + ours.pid() + " left over from an earlier run");
    }

    /** The embedded server's pid is known only once its start has ended; its own pid file says it sooner. */
    @Test
    void stopsAPostgresServerWhosePidOnlyItsOwnPidFileKnows() throws Exception {
        var server = child(home);
        var postmasterPid = home.resolve("data").resolve("postgres").resolve("postmaster.pid");
        Files.createDirectories(postmasterPid.getParent());
        Files.writeString(postmasterPid, server.pid() + "\n" + home.resolve("data/postgres") + "\n1765000000\n");

        assertThat(new Leftovers(home).stopAll(out)).isEqualTo(1);

        assertThat(server.isAlive()).isFalse();
    }

    @Test
    void passesOverALineCutShort() throws Exception {
        var ours = child(home);
        Files.writeString(home.resolve("pids"), ours.pid() + "\n12a");

        assertThat(new Leftovers(home).stopAll(out)).isEqualTo(1);

        assertThat(ours.isAlive()).isFalse();
    }

    /** A child whose command line names {@code home} as local's children do. */
    private ChildProcess child(Path home) {
        var child = ChildProcess.start("leftover", JavaLauncher.current().command(TestChild.class.getName(),
                List.of("-Dconveyor.local.home=" + home.toAbsolutePath()), List.of("run")), this.home.resolve(
                "logs").resolve("leftover-" + children.size() + ".log"));
        children.add(child);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(child.logFile()).content().contains("child started"));
        return child;
    }
}
