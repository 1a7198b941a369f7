package dev.conveyor.local.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

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
