package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded server of a launcher killed with SIGKILL must not run on without it. */
class PostgresTetherTest {

    @TempDir
    Path dir;

    private final List<ChildProcess> children = new ArrayList<>();

    @AfterEach
    void killChildren() {
        children.forEach(ChildProcess::kill);
    }

    @Test
    void stopsTheServerOfItsDataDirectoryOnceTheLauncherIsGone() {
        var data = dir.resolve("home/data/postgres");
        var launcher = child("launcher", "-Dwhat=launcher");
        var server = child("server", "-Dwhat=" + data.toAbsolutePath());
        var tether = PostgresTether.start(launcher.pid(), server.pid(), data, dir.resolve("tether.log"));
        children.add(tether);

        launcher.kill();

        await().atMost(Duration.ofSeconds(20)).until(() -> !server.isAlive());
        assertThat(server.logFile()).content().contains("child stopping"); // SIGINT: asked, not killed
        await().atMost(Duration.ofSeconds(10)).until(() -> !tether.isAlive());
        assertThat(tether.logFile()).content().contains("is gone: stopping PostgreSQL (pid " + server.pid() + ")");
    }

    /** The pid may be another process's by then: one whose command line does not name the data directory is left be. */
    @Test
    void leavesAProcessThatIsNotTheServerAlone() {
        var launcher = child("launcher", "-Dwhat=launcher");
        var other = child("other", "-Dwhat=other");
        var tether = PostgresTether.start(launcher.pid(), other.pid(), dir.resolve("home/data/postgres"),
                dir.resolve("tether.log"));
        children.add(tether);

        launcher.kill();

        await().atMost(Duration.ofSeconds(10)).until(() -> !tether.isAlive());
        assertThat(other.isAlive()).isTrue();
    }

    private ChildProcess child(String name, String option) {
        var child = ChildProcess.start(name, JavaLauncher.current().command(TestChild.class.getName(),
                List.of(option), List.of("run")), dir.resolve(name + ".log"));
        children.add(child);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(child.logFile()).content().contains("child started"));
        return child;
    }
}
