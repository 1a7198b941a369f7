package dev.conveyor.local.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.ToDoubleFunction;

/** The benchmark's table: one row per workload, system and warm-up, each figure the median of the runs. */
final class Report {

    static final List<String> ROLES = List.of("api", "worker", "broker", "postgres");
    /** The roles that are JVMs, whose JIT compilers' share the table shows. */
    static final List<String> JVM_ROLES = List.of("api", "worker", "broker");

    private final Table table = new Table(List.of("workload", "system", "warm-up", "runs", "jobs", "jobs/s",
            "p50 ms", "p95 ms", "p99 ms", "max ms", "CPU ms/job: api / worker / broker / pg = sum",
            "of it JIT: api / worker / broker",
            "peak RSS MB: api / worker / broker / pg", "worker threads", "others, cores", "notes"));

    /** Adds the row of one workload's runs. */
    void add(Workload workload, String system, int warmup, List<RunResult> runs) {
        table.add(List.of(workload.title(), system, String.format(Locale.ROOT, "%,d", warmup),
                Integer.toString(runs.size()), String.format(Locale.ROOT, "%,d", runs.getFirst().jobs()),
                spread(runs, RunResult::jobsPerSecond).format(),
                spread(runs, run -> run.latency().p50()).format(),
                Stats.number(spread(runs, run -> run.latency().p95()).median()),
                spread(runs, run -> run.latency().p99()).format(),
                Stats.number(spread(runs, run -> run.latency().max()).median()),
                cpu(runs), jit(runs), memory(runs),
                runs.getFirst().usage().containsKey("worker")
                        ? Stats.number(runs.stream().mapToInt(run -> threads(run, "worker")).max().orElse(0)) : "-",
                Stats.number(spread(runs, RunResult::otherCores).median()),
                runs.getLast().note()));
    }

    private static String cpu(List<RunResult> runs) {
        var parts = new ArrayList<String>();
        var sum = 0.0;
        for (var role : ROLES) {
            var median = spread(runs, run -> run.cpuMsPerJob(role)).median();
            parts.add(Double.isNaN(median) ? "-" : Stats.number(median));
            sum += Double.isNaN(median) ? 0 : median;
        }
        return String.join(" / ", parts) + " = " + Stats.number(sum);
    }

    /** The median CPU per job of each JVM role's JIT compiler threads. */
    private static String jit(List<RunResult> runs) {
        var parts = new ArrayList<String>();
        for (var role : JVM_ROLES) {
            var median = spread(runs, run -> run.jitMsPerJob(role)).median();
            parts.add(Double.isNaN(median) ? "-" : Stats.number(median));
        }
        return String.join(" / ", parts);
    }

    /** The highest peak of any run, per role, in MB. */
    private static String memory(List<RunResult> runs) {
        var parts = new ArrayList<String>();
        for (var role : ROLES) {
            var peak = runs.stream().mapToLong(run -> run.usage().containsKey(role) ? run.usage().get(role).peakRssKb() : -1)
                    .max().orElse(-1);
            parts.add(peak < 0 ? "-" : Stats.number(peak / 1024.0));
        }
        return String.join(" / ", parts);
    }

    private static int threads(RunResult run, String role) {
        var usage = run.usage().get(role);
        return usage == null ? 0 : usage.peakThreads();
    }

    private static Stats.Spread spread(List<RunResult> runs, ToDoubleFunction<RunResult> figure) {
        return Stats.Spread.of(runs.stream().map(run -> figure.applyAsDouble(run)).toList());
    }

    /** One line for a run as it ends. */
    static String line(RunResult run) {
        var cpu = new StringBuilder();
        run.usage().keySet().stream().filter(role -> !role.equals(Meter.OTHERS)).forEach(role -> cpu.append(' ')
                .append(role).append(' ').append(Stats.number(run.cpuMsPerJob(role))));
        var jit = new StringBuilder();
        run.usage().keySet().stream().filter(role -> !role.equals(Meter.OTHERS) && !role.equals("postgres"))
                .forEach(role -> jit.append(jit.isEmpty() ? " " : ", ").append(role).append(' ')
                        .append(Stats.number(run.jitMsPerJob(role))));
        var latency = run.latency();
        return String.format(Locale.ROOT, "%,d jobs in %.2f s = %s jobs/s; latency ms p50 %s p95 %s p99 %s max %s;"
                        + " CPU ms/job%s (of it JIT compilers:%s); other processes on the machine used %s cores%s",
                run.jobs(), run.seconds(),
                Stats.number(run.jobsPerSecond()), Stats.number(latency.p50()), Stats.number(latency.p95()),
                Stats.number(latency.p99()), Stats.number(latency.max()), cpu, jit, Stats.number(run.otherCores()),
                run.note().isEmpty() ? "" : "; " + run.note());
    }

    @Override
    public String toString() {
        return table.toString();
    }

    /** The machine: cores, memory, CPU model, JDK, OS, and the load when the benchmark started. */
    static String machine() {
        var memory = read("/proc/meminfo").flatMap(text -> Proc.kilobytes(text, "MemTotal"))
                .map(kb -> String.format(Locale.ROOT, "%.1f GB", kb / 1024.0 / 1024.0)).orElse("?");
        var cpu = read("/proc/cpuinfo").flatMap(text -> text.lines().filter(l -> l.startsWith("model name")).findFirst())
                .map(line -> line.substring(line.indexOf(':') + 1).strip()).orElse("?");
        var os = read("/etc/os-release").flatMap(text -> text.lines().filter(l -> l.startsWith("PRETTY_NAME=")).findFirst())
                .map(line -> line.substring("PRETTY_NAME=".length()).replace("\"", "")).orElse(System.getProperty("os.name"));
        var load = read("/proc/loadavg").map(text -> String.join(" ", List.of(text.split(" ")).subList(0, 3))).orElse("?");
        return "machine: " + Runtime.getRuntime().availableProcessors() + " cores (" + cpu + "), " + memory
                + " memory; JDK " + System.getProperty("java.vendor") + " " + System.getProperty("java.runtime.version")
                + "; " + os + " (Linux " + System.getProperty("os.version") + "); load average at start " + load;
    }

    private static Optional<String> read(String file) {
        try {
            return Optional.of(Files.readString(Path.of(file)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
