package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.test.TestClock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When a worker that ended is started again: the waits, the failures to start it, and a stop. */
class WorkerRestartsTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);
    private final TestClock clock = new TestClock();
    private final ManualDelays delays = new ManualDelays();
    /** What the restarts handed back to be watched: each new process. */
    private final List<ChildProcess> watched = new CopyOnWriteArrayList<>();

    @Nested
    class Waits {

        @Test
        void startAtOneSecondDoubleWhileTheWorkerEndsWithinAMinuteAndStopAtThirtySeconds() {
            assertThat(WorkerRestarts.nextWait(Duration.ofSeconds(1), Duration.ofSeconds(5))).hasSeconds(2);
            assertThat(WorkerRestarts.nextWait(Duration.ofSeconds(8), Duration.ofSeconds(59))).hasSeconds(16);
            assertThat(WorkerRestarts.nextWait(Duration.ofSeconds(16), Duration.ZERO)).hasSeconds(30);
            assertThat(WorkerRestarts.nextWait(Duration.ofSeconds(30), Duration.ZERO)).hasSeconds(30);
        }

        @Test
        void startAgainAtOneSecondOnceTheWorkerHasRunAMinute() {
            assertThat(WorkerRestarts.nextWait(Duration.ofSeconds(30), Duration.ofSeconds(60))).hasSeconds(1);
            assertThat(WorkerRestarts.nextWait(Duration.ofSeconds(4), Duration.ofHours(5))).hasSeconds(1);
        }
    }

    @Test
    void startsAWorkerAgainAfterWaitsThatGrowWhileItKeepsEndingSoonAfterItsStart() throws Exception {
        var restarts = new WorkerRestarts(out, clock, delays, ended -> Optional.of(ending("worker-1", 3)));
        var worker = ending("worker-1", 137);

        var waits = new ArrayList<Duration>();
        for (var n = 0; n < 7; n++) {
            restarts.ended(worker, watched::add);
            var pending = delays.next();
            waits.add(pending.delay());
            pending.task().run();
            worker = watched.getLast();
            clock.advance(Duration.ofSeconds(20)); // ended 20 s after its start
        }

        assertThat(waits).extracting(Duration::toSeconds).containsExactly(1L, 2L, 4L, 8L, 16L, 30L, 30L);
        assertThat(watched).hasSize(7).doesNotHaveDuplicates();
        assertThat(printed()).contains("!! worker-1 (pid " + watched.get(2).pid() + ") exited unexpectedly with code 3; "
                + "starting it again in 8 s; see " + dir.resolve("worker-1.log"));
        assertThat(printed()).contains("   worker-1 (pid " + watched.get(2).pid() + ") started again");
    }

    @Test
    void waitsOneSecondAgainForAWorkerThatRanAMinute() throws Exception {
        var restarts = new WorkerRestarts(out, clock, delays, ended -> Optional.of(ending("worker-2", 3)));
        restarts.ended(ending("worker-2", 137), watched::add);
        delays.next().task().run();
        clock.advance(Duration.ofSeconds(1));
        restarts.ended(watched.getLast(), watched::add);
        delays.next().task().run();

        clock.advance(Duration.ofSeconds(60));
        restarts.ended(watched.getLast(), watched::add);

        assertThat(delays.next().delay()).hasSeconds(1);
    }

    @Test
    void keepsTheWaitsOfEachWorkerApart() throws Exception {
        var restarts = new WorkerRestarts(out, clock, delays, ended -> Optional.of(ending(ended.name(), 3)));
        restarts.ended(ending("worker-1", 137), watched::add);
        delays.next().task().run();

        restarts.ended(ending("worker-2", 137), watched::add);

        assertThat(delays.next().delay()).hasSeconds(1);
    }

    @Test
    void triesAgainAfterALongerWaitWhenTheWorkerCannotBeStarted() throws Exception {
        var tries = new AtomicInteger();
        var restarts = new WorkerRestarts(out, clock, delays, ended -> {
            if (tries.incrementAndGet() == 1) {
                throw new UncheckedIOException("cannot start worker-1: error=12, Cannot allocate memory",
                        new IOException("error=12, Cannot allocate memory"));
            }
            return Optional.of(ending("worker-1", 3));
        });
        restarts.ended(ending("worker-1", 137), watched::add);
        delays.next().task().run();

        var retry = delays.next();

        assertThat(retry.delay()).hasSeconds(2);
        assertThat(watched).isEmpty();
        assertThat(printed()).contains("!! cannot start worker-1 again (cannot start worker-1: error=12, Cannot allocate "
                + "memory); trying again in 2 s");
        retry.task().run();
        assertThat(watched).hasSize(1);
        assertThat(tries).hasValue(2);
    }

    @Test
    void startsNothingOnceLocalIsStopping() throws Exception {
        var restarts = new WorkerRestarts(out, clock, delays, ended -> Optional.empty());
        restarts.ended(ending("worker-1", 137), watched::add);

        delays.next().task().run();

        assertThat(watched).isEmpty();
        assertThat(delays.isEmpty()).isTrue();
        assertThat(printed()).doesNotContain("started again");
    }

    private String printed() {
        return output.toString(StandardCharsets.UTF_8);
    }

    /** A process that has ended with {@code code}, as a worker that died. */
    private ChildProcess ending(String name, int code) {
        var child = ChildProcess.start(name, List.of("sh", "-c", "exit " + code), dir.resolve(name + ".log"));
        child.onExit().join();
        return child;
    }
}
