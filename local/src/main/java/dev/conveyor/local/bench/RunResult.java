package dev.conveyor.local.bench;

import java.util.Map;

/**
 * One measured run.
 *
 * @param jobs     jobs measured, every one SUCCEEDED
 * @param seconds  from the first submit to the last outcome recorded
 * @param latency  per job, from its submit to its outcome being readable
 * @param usage    what each role's processes used over the run, by role
 * @param note     what else the run showed (such as the connections the HTTP server saw)
 */
record RunResult(int jobs, double seconds, Stats.Latencies latency, Map<String, Meter.Usage> usage, String note) {

    RunResult withNote(String note) {
        return new RunResult(jobs, seconds, latency, usage, note);
    }

    double jobsPerSecond() {
        return jobs / seconds;
    }

    /** Cores that processes outside the measured system and the benchmark kept busy, on average over the run. */
    double otherCores() {
        var others = usage.get(Meter.OTHERS);
        return others == null ? 0 : others.cpuSeconds() / seconds;
    }

    /** CPU milliseconds per job of one role; NaN when that role was not measured. */
    double cpuMsPerJob(String role) {
        var used = usage.get(role);
        return used == null ? Double.NaN : used.cpuSeconds() * 1000 / jobs;
    }

    /** Of {@link #cpuMsPerJob}, the milliseconds per job that the role's JIT compiler threads used; NaN as there. */
    double jitMsPerJob(String role) {
        var used = usage.get(role);
        return used == null ? Double.NaN : used.jitSeconds() * 1000 / jobs;
    }
}
