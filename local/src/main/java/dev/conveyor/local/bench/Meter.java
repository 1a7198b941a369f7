package dev.conveyor.local.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Measures the processes of each {@link Role} over one phase: CPU time spent, peak memory and the most OS threads.
 * Peaks that {@code /proc} cannot keep (the threads, PostgreSQL's memory) are sampled once a second: reading the
 * memory of every PostgreSQL process ({@code smaps_rollup}) walks its page tables, and four times a second that cost
 * the benchmark a tenth of a core, taken from the system it measures.
 */
final class Meter implements AutoCloseable {

    private static final long SAMPLE_MS = 1000;

    /**
     * What one role used during the phase: CPU time, of it the JIT compilers' (JVMs; 0 for others), peak memory and
     * the most OS threads.
     */
    record Usage(double cpuSeconds, double jitSeconds, long peakRssKb, int peakThreads) {
    }

    /** The role that stands for every other process on the machine: CPU only. */
    static final String OTHERS = "others";

    private final List<Role> roles;
    private final Map<String, Long> cpuBefore = new LinkedHashMap<>();
    private final Map<String, Long> jitBefore = new LinkedHashMap<>();
    private final Map<String, Long> sampledMemory = new ConcurrentHashMap<>();
    private final Map<String, Integer> sampledThreads = new ConcurrentHashMap<>();
    private final long machineBefore;
    private final Thread sampler;
    private volatile boolean running = true;

    /** Starts measuring now. */
    Meter(List<Role> roles) {
        this.roles = List.copyOf(roles);
        for (var role : roles) {
            role.resetPeaks();
            cpuBefore.put(role.name(), role.cpuTicks());
            jitBefore.put(role.name(), role.compilerTicks());
        }
        machineBefore = machineBusyTicks();
        sample();
        sampler = Thread.ofPlatform().daemon().name("bench-sampler").start(this::sampleUntilStopped);
    }

    /** Stops measuring and answers each role's usage, by role name. */
    Map<String, Usage> stop() {
        close();
        sample();
        var usage = new LinkedHashMap<String, Usage>();
        var ours = 0.0;
        for (var role : roles) {
            var cpu = (role.cpuTicks() - cpuBefore.get(role.name())) / (double) Proc.TICKS_PER_SECOND;
            var jit = Math.max(0, role.compilerTicks() - jitBefore.get(role.name())) / (double) Proc.TICKS_PER_SECOND;
            ours += cpu;
            var memory = role.peakRssKb().orElse(sampledMemory.getOrDefault(role.name(), 0L));
            usage.put(role.name(), new Usage(cpu, jit, memory, sampledThreads.getOrDefault(role.name(), 0)));
        }
        var machine = (machineBusyTicks() - machineBefore) / (double) Proc.TICKS_PER_SECOND;
        usage.put(OTHERS, new Usage(Math.max(0, machine - ours), 0, 0, 0));
        return usage;
    }

    private static long machineBusyTicks() {
        try {
            return Proc.machineBusyTicks(Files.readString(Path.of("/proc/stat")));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/stat", e);
        }
    }

    private void sampleUntilStopped() {
        while (running) {
            try {
                TimeUnit.MILLISECONDS.sleep(SAMPLE_MS);
            } catch (InterruptedException e) {
                return;
            }
            try {
                sample();
            } catch (RuntimeException e) {
                // a process that ended mid-sample; the next sample goes on without it
            }
        }
    }

    private void sample() {
        for (var role : roles) {
            sampledThreads.merge(role.name(), role.threads(), Math::max);
            if (role.tree()) {
                sampledMemory.merge(role.name(), role.currentMemoryKb(), Math::max);
            }
        }
    }

    @Override
    public void close() {
        running = false;
        sampler.interrupt();
        try {
            sampler.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
