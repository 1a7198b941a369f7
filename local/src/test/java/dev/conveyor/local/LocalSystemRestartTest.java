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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker that ends while {@code local} runs is started again. Real processes, but small ones: the api is a JVM that
 * answers 200 to its health check ({@link HealthyApi}), each worker a {@link TestChild} that runs until stopped, both
 * through {@link Tether} as {@code local} starts its JVMs; PostgreSQL and Kafka are "external" and never asked.
 */
class LocalSystemRestartTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);
    private LocalSystem system;

    @AfterEach
    void stopEverything() throws Exception {
        if (system != null) {
            system.stop();
        }
        notedPids().forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }

    @Test
    void startsAKilledWorkerAgainUnderItsNameAndStopsItWithTheRest() throws Exception {
        start(null);
        var first = worker();

        kill(first);

        await().atMost(Duration.ofSeconds(30)).until(() -> worker() != first && alive(worker()));
        var second = worker();
        assertThat(printed()).contains("!! worker-1 (pid " + first + ") exited unexpectedly with code 137; starting it "
                + "again in 1 s; see " + system.log("worker-1"), "   worker-1 (pid " + second + ") started again");
        // tethered to this launcher, its pid noted as at the start (a later run stops it, should this one be killed)
        assertThat(ProcessHandle.of(second).orElseThrow().info().commandLine().orElseThrow())
                .contains("-D" + Tether.PARENT + "=" + ProcessHandle.current().pid());
        assertThat(notedPids()).contains(second);
        // the same arguments, its output appended to the same log after a line of ours
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(Files.readAllLines(system.log("worker-1")))
                .filteredOn(line -> line.startsWith("child started") || line.startsWith("--- conveyor-local"))
                .hasSize(3)
                .satisfies(lines -> assertThat(lines.getFirst()).contains("--conveyor.worker.id=worker-1@")
                        .isEqualTo(lines.getLast()))
                .element(1).isEqualTo("--- conveyor-local: worker-1 (pid " + first + ") exited with code 137; "
                        + "starting it again ---"));

        system.stop();

        assertThat(notedPids()).hasSize(3).noneMatch(LocalSystemRestartTest::alive);
    }

    @Nested
    class AStop {

        private final ManualDelays delays = new ManualDelays();

        @Test
        void beforeTheWaitEndsStartsNothingAgain() throws Exception {
            start(delays);
            var first = worker();
            kill(first);
            var restart = delays.next();

            system.stop();
            restart.task().run(); // as a timer that the stop could not end in time would

            assertThat(worker()).isEqualTo(first);
            assertThat(notedPids()).hasSize(2).noneMatch(LocalSystemRestartTest::alive);
            assertThat(printed()).doesNotContain("started again");
        }

        @Test
        void rightAfterAWorkerStartedAgainStopsItToo() throws Exception {
            start(delays);
            var first = worker();
            kill(first);
            delays.next().task().run();
            var second = worker();
            assertThat(second).isNotEqualTo(first);

            system.stop();

            assertThat(notedPids()).containsExactlyInAnyOrder(api(), first, second)
                    .noneMatch(LocalSystemRestartTest::alive);
        }

        /** Whichever comes first, nothing is left running. */
        @Test
        void atTheMomentAWorkerStartsAgainLeavesNothingRunning() throws Exception {
            start(delays);
            kill(worker());
            var restart = CompletableFuture.runAsync(delays.next().task());

            system.stop();
            restart.join();

            assertThat(notedPids()).hasSizeBetween(2, 3).noneMatch(LocalSystemRestartTest::alive);
        }
    }

    @Test
    void startsNoWorkerAgainWhenToldNotTo() throws Exception {
        start(new ManualDelays(), "--restart-workers=false");
        var first = worker();

        kill(first);

        await().atMost(Duration.ofSeconds(30)).until(() -> printed().contains("no worker is left"));
        assertThat(worker()).isEqualTo(first);
    }

    private void start(WorkerRestarts.Delays delays, String... more) throws Exception {
        var args = new ArrayList<>(List.of("--home=" + dir.resolve("home"), "--port=" + freePort(), "--workers=1",
                "--postgres-url=jdbc:postgresql://localhost:1/unused", "--kafka=localhost:1"));
        args.addAll(List.of(more));
        system = new LocalSystem(LocalOptions.parse(args.toArray(String[]::new)), fakeJava(), out, delays);
        system.start();
    }

    private long worker() {
        return system.processes().get("worker-1");
    }

    private long api() {
        return system.processes().get("api");
    }

    /** As {@code kill -9} would, or a job that halts the worker's JVM; awaits its end. */
    private static void kill(long pid) {
        ProcessHandle.of(pid).ifPresent(process -> {
            process.destroyForcibly();
            process.onExit().join();
        });
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).isPresent();
    }

    /** The pids the system noted for a later run, as it launched them. */
    private List<Long> notedPids() throws Exception {
        var file = dir.resolve("home").resolve("pids");
        return Files.exists(file) ? Files.readAllLines(file).stream().map(Long::parseLong).toList() : List.of();
    }

    private String printed() {
        return output.toString(StandardCharsets.UTF_8);
    }

    /** The real {@code java}, running {@link HealthyApi} for the api and {@link TestChild} for each worker. */
    private JavaLauncher fakeJava() throws Exception {
        var script = dir.resolve("java");
        Files.writeString(script, """
                #!/bin/sh
                for arg in "$@"; do
                  shift
                  case "$arg" in
                    %s) set -- "$@" %s;;
                    %s) set -- "$@" %s run;;
                    *) set -- "$@" "$arg";;
                  esac
                done
                exec '%s' "$@"
                """.formatted(LocalSystem.API_MAIN, HealthyApi.class.getName(), LocalSystem.WORKER_MAIN,
                TestChild.class.getName(), JavaLauncher.current().java()));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return new JavaLauncher(script, System.getProperty("java.class.path"), false);
    }

    private static int freePort() throws Exception {
        try (var socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
