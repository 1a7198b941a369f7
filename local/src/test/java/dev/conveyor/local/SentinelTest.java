package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What local does when one of its processes ends while it runs. */
class SentinelTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final Sentinel sentinel = new Sentinel(out, stopping::get, exit::complete);
    private final List<ChildProcess> children = new ArrayList<>();

    @AfterEach
    void stopChildren() {
        children.forEach(ChildProcess::kill);
    }

    /** The embedded server is not this JVM's child; killed, it went unnoticed while the api answered 503. */
    @Test
    void stopsEverythingWhenPostgresDies() {
        var postgres = child("postgres");
        sentinel.watchPostgres(postgres.pid(), dir.resolve("postgres.log"));

        postgres.kill();

        assertThat(exit).succeedsWithin(Duration.ofSeconds(20)).isEqualTo(1);
        assertThat(printed()).contains("!! PostgreSQL (pid " + postgres.pid() + ") exited unexpectedly; see "
                + dir.resolve("postgres.log"), "nothing works without the PostgreSQL: stopping everything");
    }

    @Test
    void stopsEverythingWhenTheApiDies() {
        var api = child("api");
        sentinel.watch(api);

        api.kill();

        assertThat(exit).succeedsWithin(Duration.ofSeconds(20)).isEqualTo(1);
        assertThat(printed()).contains("api (pid " + api.pid() + ") exited unexpectedly with code 137");
    }

    @Test
    void saysHowManyWorkersAreLeftAndGoesOn() {
        var first = child("worker-1");
        var second = child("worker-2");
        sentinel.watch(first);
        sentinel.watch(second);

        first.kill();
        await().atMost(Duration.ofSeconds(20)).until(() -> printed().contains("1 other worker(s) go on"));
        second.kill();
        await().atMost(Duration.ofSeconds(20)).until(() -> printed().contains("no worker is left: jobs wait QUEUED"));

        assertThat(exit).isNotDone();
    }

    @Test
    void startsAWorkerThatEndsAgainAndWatchesTheNewOne() throws Exception {
        var delays = new ManualDelays();
        var again = new ArrayList<ChildProcess>();
        var restarting = new Sentinel(out, stopping::get, exit::complete, new WorkerRestarts(out, Clock.systemUTC(),
                delays, ended -> {
                    var worker = child(ended.name());
                    again.add(worker);
                    return Optional.of(worker);
                }));
        var first = child("worker-1");
        restarting.watch(first);

        first.kill();
        var restart = delays.next();
        assertThat(restart.delay()).hasSeconds(1);
        assertThat(printed()).contains("!! worker-1 (pid " + first.pid() + ") exited unexpectedly with code 137; "
                + "starting it again in 1 s; see " + dir.resolve("worker-1.log")).doesNotContain("go on", "is left");
        restart.task().run();
        again.getFirst().kill();

        assertThat(delays.next().delay()).as("the process started again is watched too").hasSeconds(2);
        assertThat(exit).isNotDone();
    }

    @Test
    void startsNoWorkerAgainThatEndsDuringAStop() throws Exception {
        var delays = new ManualDelays();
        var restarting = new Sentinel(out, stopping::get, exit::complete, new WorkerRestarts(out, Clock.systemUTC(),
                delays, ended -> Optional.of(child(ended.name()))));
        var worker = child("worker-1");
        restarting.watch(worker);
        stopping.set(true);

        worker.stop(Duration.ofSeconds(10));

        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(delays::isEmpty);
        assertThat(printed()).isEmpty();
    }

    @Test
    void stopsEverythingWhenPostgresIsGoneBeforeItIsWatched() {
        sentinel.watchPostgres(Long.MAX_VALUE, dir.resolve("postgres.log"));

        assertThat(exit).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(1);
    }

    private String printed() {
        return output.toString(StandardCharsets.UTF_8);
    }

    private ChildProcess child(String name) {
        var child = ChildProcess.start(name, ChildProcessTest.command("run"), dir.resolve(name + ".log"));
        children.add(child);
        return child;
    }
}
