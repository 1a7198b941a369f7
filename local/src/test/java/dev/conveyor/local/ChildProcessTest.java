package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChildProcessTest {

    @TempDir
    Path dir;

    @Test
    void writesItsOutputToTheLogFileAndStopsPolitelyOnSigterm() {
        var child = start("run", "hello");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(child.logFile()).content().contains("child started: run hello"));

        var wentByItself = child.stop(Duration.ofSeconds(10));

        assertThat(wentByItself).isTrue();
        assertThat(ProcessHandle.of(child.pid())).isEmpty();
        assertThat(child.logFile()).content().contains("child stopping");
    }

    @Test
    void killsAChildThatDoesNotStopWithinTheGracePeriod() {
        var child = start("stubborn");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(child.logFile()).content().contains("child started"));

        var wentByItself = child.stop(Duration.ofMillis(500));

        assertThat(wentByItself).isFalse();
        assertThat(child.isAlive()).isFalse();
    }

    @Test
    void reportsAnExitAndShowsTheEndOfItsLog() {
        var child = start("exit", "3");

        await().atMost(Duration.ofSeconds(20)).until(() -> child.onExit().isDone());

        assertThat(child.exitValue()).isEqualTo(3);
        assertThat(child.tail(5)).isEqualTo("child started: exit 3");
        assertThat(child.toString()).isEqualTo("test-child (pid " + child.pid() + ")");
    }

    @Test
    void appendsToAnExistingLogFile() throws Exception {
        var log = dir.resolve("logs/child.log");
        Files.createDirectories(log.getParent());
        Files.writeString(log, "earlier line\n");
        var child = ChildProcess.start("test-child", command("exit", "0"), log);

        await().atMost(Duration.ofSeconds(20)).until(() -> child.onExit().isDone());

        assertThat(Files.readAllLines(log)).containsExactly("earlier line", "child started: exit 0");
    }

    private ChildProcess start(String... args) {
        return ChildProcess.start("test-child", command(args), dir.resolve("logs/child.log"));
    }

    static List<String> command(String... args) {
        return JavaLauncher.current().command(TestChild.class.getName(), List.of(), List.of(args));
    }
}
