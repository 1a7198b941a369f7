package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the launcher's shutdown hook (Ctrl-C, SIGTERM) does to a start still under way: it must stop what that start
 * has launched, not only what a finished start would have handed over, and the start must end.
 */
class LocalSystemStopTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);
    private Path brokerPid;

    @AfterEach
    void killTheFakeBroker() throws Exception {
        if (brokerPid != null && Files.exists(brokerPid)) {
            ProcessHandle.of(Long.parseLong(Files.readString(brokerPid).strip()))
                    .ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void aStopWhileKafkaStartsStopsTheBrokerBeingStartedAndEndsTheStart() throws Exception {
        brokerPid = dir.resolve("broker.pid");
        var options = LocalOptions.parse("--home=" + dir.resolve("home"), "--port=" + freePort(), "--workers=0",
                "--postgres-url=jdbc:postgresql://localhost:1/unused");
        var system = new LocalSystem(options, brokerThatNeverAnswers(), out);
        var start = CompletableFuture.runAsync(system::start);
        await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(brokerPid)
                && !Files.readString(brokerPid).isBlank());
        var broker = ProcessHandle.of(Long.parseLong(Files.readString(brokerPid).strip())).orElseThrow();
        // noted as launched: a launcher killed now (SIGKILL, no hook) leaves the next run a way to stop it
        assertThat(Files.readAllLines(dir.resolve("home").resolve("pids"))).contains(String.valueOf(broker.pid()));

        system.stop(); // what the shutdown hook runs

        assertThat(broker.isAlive()).as("the broker being started, after the stop").isFalse();
        await().atMost(Duration.ofSeconds(10)).until(start::isDone);
        assertThat(start).isCompletedExceptionally();
        assertThat(output.toString(StandardCharsets.UTF_8)).contains("starting Kafka... stopped");
    }

    /**
     * A {@code java} whose Kafka storage tool succeeds at once and whose broker writes its pid and never answers (as
     * a broker still starting).
     */
    private JavaLauncher brokerThatNeverAnswers() throws Exception {
        var script = dir.resolve("java");
        Files.writeString(script, """
                #!/bin/sh
                case "$*" in *kafka.tools.StorageTool*) exit 0;; esac
                echo $$ > '%s'
                exec sleep 600
                """.formatted(brokerPid));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return new JavaLauncher(script, "unused", false);
    }

    private static int freePort() throws Exception {
        try (var socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
