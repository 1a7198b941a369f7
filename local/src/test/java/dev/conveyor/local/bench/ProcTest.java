package dev.conveyor.local.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcTest {

    // From a real /proc/<pid>/stat, with a command name that holds a space and parentheses.
    private static final String STAT = "4242 (java (api) x) S 1 4242 4242 0 -1 4194560 81234 0 12 0 1234 567 89 10 "
            + "20 0 45 0 1000 4000000000 120000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";

    @Nested
    class CpuTime {

        @Test
        void isUserPlusSystemTime() {
            assertThat(Proc.cpuTicks(STAT, false)).isEqualTo(1234 + 567);
        }

        @Test
        void withChildrenAddsTheTimeOfWaitedForChildren() {
            assertThat(Proc.cpuTicks(STAT, true)).isEqualTo(1234 + 567 + 89 + 10);
        }
    }

    @Nested
    class CompilerThreads {

        @TempDir
        Path proc;

        @Test
        void sumsTheCpuTimeOfTheJitCompilerThreadsAlone() throws IOException {
            task(4242, 4242, "java", 1000, 100);
            task(4242, 4250, "C2 CompilerThre", 300, 20);
            task(4242, 4251, "C1 CompilerThre", 40, 2);
            task(4242, 4252, "C2 CompilerThre", 7, 0); // a second C2 thread that HotSpot started
            task(4242, 4260, "GC Thread#0", 500, 5);
            task(4242, 4261, "CompilerThrea", 900, 9); // not HotSpot's name
            Files.createDirectories(proc.resolve("4242/task/4270")); // a thread that ended while it was listed

            assertThat(Proc.compilerTicks(proc, 4242)).isEqualTo(300 + 20 + 40 + 2 + 7);
        }

        @Test
        void isZeroForAProcessThatHasGone() {
            assertThat(Proc.compilerTicks(proc, 99999)).isZero();
        }

        @Test
        void findsTheCompilerThreadsOfThisJvm() {
            var self = ProcessHandle.current().pid();
            var tasks = Path.of("/proc", Long.toString(self), "task");
            var names = read(tasks);

            assertThat(names).as("this JVM's threads").anyMatch(Proc::compilerThread);
            var total = Proc.read(self, "stat").map(stat -> Proc.cpuTicks(stat, false)).orElseThrow();
            assertThat(Proc.compilerTicks(Path.of("/proc"), self)).isBetween(0L, total);
        }

        private List<String> read(Path tasks) {
            try (var list = Files.list(tasks)) {
                return list.map(task -> {
                    try {
                        return Files.readString(task.resolve("comm")).strip();
                    } catch (IOException ended) {
                        return "";
                    }
                }).toList();
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }

        private void task(long pid, long tid, String comm, long user, long system) throws IOException {
            var dir = Files.createDirectories(proc.resolve(pid + "/task/" + tid));
            Files.writeString(dir.resolve("comm"), comm + "\n");
            Files.writeString(dir.resolve("stat"), tid + " (" + comm + ") S 1 4242 4242 0 -1 4194560 81234 0 12 0 "
                    + user + " " + system + " 0 0 20 0 45 0 1000 4000000000 120000");
        }
    }

    @Nested
    class Status {

        private static final String STATUS = """
                Name:\tjava
                VmPeak:\t 5000000 kB
                VmHWM:\t  401234 kB
                VmRSS:\t  390000 kB
                Threads:\t34
                """;

        @Test
        void readsKilobyteFields() {
            assertThat(Proc.kilobytes(STATUS, "VmHWM")).contains(401_234L);
            assertThat(Proc.kilobytes(STATUS, "VmRSS")).contains(390_000L);
            assertThat(Proc.kilobytes(STATUS, "VmSwap")).isEmpty();
        }

        @Test
        void readsTheNumberOfOsThreads() {
            assertThat(Proc.threads(STATUS)).contains(34);
        }
    }

    @Test
    void machineBusyTimeIsEverythingButIdleAndIoWait() {
        var stat = "cpu  100 2 30 5000 40 6 7 8 0 0\ncpu0 50 1 15 2500 20 3 3 4 0 0\n";

        assertThat(Proc.machineBusyTicks(stat)).isEqualTo(100 + 2 + 30 + 6 + 7 + 8);
    }

    @Test
    void measuresThisProcess() {
        var self = new Role("bench", List.of(ProcessHandle.current().pid()), false);

        assertThat(self.cpuTicks()).isPositive();
        assertThat(self.threads()).isGreaterThan(1);
        assertThat(self.peakRssKb()).hasValueSatisfying(kb -> assertThat(kb).isGreaterThan(10_000));
        assertThat(self.currentMemoryKb()).isGreaterThan(10_000);
    }

    @Test
    void measuresAProcessTreeByProportionalSetSize() {
        var self = new Role("tree", List.of(ProcessHandle.current().pid()), true);

        assertThat(self.peakRssKb()).isEmpty();
        assertThat(self.currentMemoryKb()).isGreaterThan(10_000);
    }
}
