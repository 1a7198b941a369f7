package dev.conveyor.local.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The processes that play one part in the system (the api instances, the workers, the broker, PostgreSQL), measured
 * together: CPU time summed, peak memory as the largest of them (JVMs) or summed over the process tree (PostgreSQL,
 * whose backends share memory: proportional set size, so shared pages count once).
 *
 * @param name  the column name, such as {@code api}
 * @param pids  the processes; for a tree, its root
 * @param tree  whether each pid is the root of a tree to measure whole (PostgreSQL's postmaster and its backends)
 */
record Role(String name, List<Long> pids, boolean tree) {

    Role {
        pids = List.copyOf(pids);
    }

    /** CPU time in ticks so far: every process, and for a tree its live children plus its ended, reaped ones. */
    long cpuTicks() {
        var ticks = 0L;
        for (var pid : pids) {
            ticks += Proc.read(pid, "stat").map(stat -> Proc.cpuTicks(stat, tree)).orElse(0L);
            if (tree) {
                ticks += descendants(pid).stream()
                        .mapToLong(child -> Proc.read(child, "stat").map(stat -> Proc.cpuTicks(stat, false)).orElse(0L))
                        .sum();
            }
        }
        return ticks;
    }

    /** CPU time in ticks so far of the JIT compiler threads of these processes (JVMs); 0 for a tree. */
    long compilerTicks() {
        return tree ? 0 : pids.stream().mapToLong(pid -> Proc.compilerTicks(Path.of("/proc"), pid)).sum();
    }

    /** Starts a new peak-RSS window ({@code VmHWM}) for every process. */
    void resetPeaks() {
        pids.forEach(Proc::resetPeak);
    }

    /** For JVMs: the largest {@code VmHWM} since {@link #resetPeaks()}, in kB. Empty for a tree (sample it instead). */
    Optional<Long> peakRssKb() {
        if (tree) {
            return Optional.empty();
        }
        return pids.stream().map(pid -> Proc.read(pid, "status").flatMap(status -> Proc.kilobytes(status, "VmHWM")))
                .flatMap(Optional::stream).max(Long::compare);
    }

    /** For a tree: the proportional set size of all its processes now, in kB; for JVMs the largest RSS now. */
    long currentMemoryKb() {
        if (!tree) {
            return pids.stream().map(pid -> Proc.read(pid, "status").flatMap(status -> Proc.kilobytes(status, "VmRSS")))
                    .flatMap(Optional::stream).mapToLong(Long::longValue).max().orElse(0);
        }
        var total = 0L;
        for (var pid : pids) {
            var all = new ArrayList<Long>(descendants(pid));
            all.add(pid);
            for (var process : all) {
                total += Proc.read(process, "smaps_rollup").flatMap(text -> Proc.kilobytes(text, "Pss")).orElse(0L);
            }
        }
        return total;
    }

    /** The most OS threads any one of these processes has now. */
    int threads() {
        return pids.stream().map(pid -> Proc.read(pid, "status").flatMap(Proc::threads)).flatMap(Optional::stream)
                .mapToInt(Integer::intValue).max().orElse(0);
    }

    private static List<Long> descendants(long pid) {
        return ProcessHandle.of(pid).map(handle -> handle.descendants().map(ProcessHandle::pid).toList())
                .orElse(List.of());
    }
}
