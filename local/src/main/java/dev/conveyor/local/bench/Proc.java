package dev.conveyor.local.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

/** What Linux's {@code /proc} says about a process: CPU time, memory and OS threads. */
final class Proc {

    /** {@code USER_HZ}: the unit of the CPU times in {@code /proc/<pid>/stat}; 100 on every mainstream kernel. */
    static final long TICKS_PER_SECOND = 100;

    private Proc() {
    }

    /**
     * CPU time in ticks from a {@code /proc/<pid>/stat} line: user plus system time, and with {@code children} also
     * that of the children it has waited for (PostgreSQL's ended backends).
     */
    static long cpuTicks(String statLine, boolean children) {
        // The command name (field 2) is in parentheses and may hold spaces and parentheses itself.
        var fields = statLine.substring(statLine.lastIndexOf(')') + 2).strip().split("\\s+");
        // fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
        var ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        return children ? ticks + Long.parseLong(fields[13]) + Long.parseLong(fields[14]) : ticks;
    }

    /**
     * Busy CPU time of the whole machine in ticks, from the {@code cpu} line of {@code /proc/stat}: everything but
     * idle and I/O wait (guest time is already inside user time).
     */
    static long machineBusyTicks(String procStat) {
        var fields = procStat.lines().findFirst().orElseThrow().strip().split("\\s+");
        var busy = 0L;
        // cpu user nice system idle iowait irq softirq steal
        for (var i : new int[] {1, 2, 3, 6, 7, 8}) {
            busy += Long.parseLong(fields[i]);
        }
        return busy;
    }

    /**
     * CPU time in ticks of a JVM's JIT compiler threads ({@code C1 CompilerThread0}, {@code C2 CompilerThread0}, ...),
     * from {@code <proc>/<pid>/task/<tid>/comm} and {@code stat}; 0 for a process that has none or has gone. A compiler
     * thread that ended (HotSpot can retire the extra ones it started) takes its time with it.
     */
    static long compilerTicks(Path proc, long pid) {
        try (Stream<Path> tasks = Files.list(proc.resolve(Long.toString(pid)).resolve("task"))) {
            return tasks.mapToLong(task -> {
                try {
                    return compilerThread(Files.readString(task.resolve("comm")).strip())
                            ? cpuTicks(Files.readString(task.resolve("stat")), false) : 0;
                } catch (IOException | RuntimeException e) {
                    return 0; // a thread that ended while it was read
                }
            }).sum();
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Whether a thread's name (as the kernel keeps it: the first 15 characters) is a HotSpot JIT compiler's. */
    static boolean compilerThread(String comm) {
        return comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre");
    }

    /** A {@code kB} field such as {@code VmHWM} or {@code Pss} of {@code /proc/<pid>/status} or {@code smaps_rollup}. */
    static Optional<Long> kilobytes(String text, String field) {
        return field(text, field).map(value -> Long.parseLong(value.replace("kB", "").strip()));
    }

    /** The number of OS threads ({@code Threads:} of {@code /proc/<pid>/status}); virtual threads are not among them. */
    static Optional<Integer> threads(String statusText) {
        return field(statusText, "Threads").map(Integer::valueOf);
    }

    private static Optional<String> field(String text, String field) {
        var prefix = field + ":";
        return text.lines().filter(line -> line.startsWith(prefix)).findFirst()
                .map(line -> line.substring(prefix.length()).strip());
    }

    /** The file {@code /proc/<pid>/<name>}; empty once the process has gone (or when it cannot be read). */
    static Optional<String> read(long pid, String name) {
        try {
            return Optional.of(Files.readString(Path.of("/proc", Long.toString(pid), name)));
        } catch (IOException e) {
            // A process that ends while it is read (a PostgreSQL backend) fails with "No such process" or no file:
            // it is gone, and so are its figures.
            return Optional.empty();
        }
    }

    /** Resets the process's peak RSS ({@code VmHWM}) to its current RSS; false when the kernel does not let us. */
    static boolean resetPeak(long pid) {
        try {
            Files.writeString(Path.of("/proc", Long.toString(pid), "clear_refs"), "5");
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
