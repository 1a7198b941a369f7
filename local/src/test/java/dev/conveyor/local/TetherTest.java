package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A child of a launcher killed with SIGKILL (no shutdown hook runs there) must not run on without it. */
class TetherTest {

    @TempDir
    Path dir;

    private ProcessHandle child;

    @AfterEach
    void killTheChild() {
        if (child != null) {
            child.destroyForcibly();
        }
    }

    @Test
    void aChildStopsPolitelyWhenItsLauncherIsKilled() throws Exception {
        var childLog = dir.resolve("child.log");
        var launcher = ChildProcess.start("launcher", JavaLauncher.current().command(TetherParent.class.getName(),
                List.of(), List.of(childLog.toString())), dir.resolve("launcher.log"));
        var pid = Pattern.compile("child pid (\\d+)");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(launcher.logFile())
                && pid.matcher(Files.readString(launcher.logFile())).find());
        var matcher = pid.matcher(Files.readString(launcher.logFile()));
        assertThat(matcher.find()).isTrue();
        child = ProcessHandle.of(Long.parseLong(matcher.group(1))).orElseThrow();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(childLog).content().contains("child started"));

        ProcessHandle.of(launcher.pid()).orElseThrow().destroyForcibly(); // the launcher only, as kill -9 would

        await().atMost(Duration.ofSeconds(30)).until(() -> !child.isAlive());
        assertThat(childLog).content().contains("is gone: stopping", "child stopping");
    }

    @Test
    void runsTheMainClassItIsGivenWithItsArguments() throws Exception {
        var child = ChildProcess.start("child", ChildProcessTest.command("exit", "7"), dir.resolve("child.log"));

        await().atMost(Duration.ofSeconds(30)).until(() -> child.onExit().isDone());

        assertThat(child.exitValue()).isEqualTo(7);
        assertThat(child.logFile()).content().contains("child started: exit 7");
    }
}
