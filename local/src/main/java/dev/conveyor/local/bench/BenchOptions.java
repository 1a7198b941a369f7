package dev.conveyor.local.bench;

import dev.conveyor.local.LocalOptions;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The benchmark's command line: which workloads, how big, how many runs, against which systems.
 *
 * @param workloads  the workloads to run on the base system (one api, one worker), in table order
 * @param scaling    further systems on which W1 runs again
 * @param scalingWorkloads the W1 variants that run on the scaling systems
 * @param runs       measured runs per workload
 * @param warmups    warm-up sizes; each gets fresh systems and rows of its own
 * @param w1Jobs     jobs per W1 run
 * @param batchSize  jobs per {@code POST /v1/jobs/batch}
 * @param clients    concurrent clients of W1's single-submit variant
 * @param w2Jobs     jobs per W2 run
 * @param w2DelayMs  how long the benchmark's HTTP server takes to answer
 * @param w3Rate     W3's submissions per second
 * @param w3Seconds  how long W3 submits
 * @param w4Jobs     jobs per W4 run
 * @param w4SleepMs  how long each W4 job sleeps
 * @param urls       apis of a running system to measure instead of starting one
 * @param pids       processes of that running system by role ({@code api}, {@code worker}, {@code broker},
 *                   {@code postgres}), for the CPU and memory columns
 * @param jdbc       with {@code urls}: the running system's database, for the floor workloads; empty without
 * @param kafka      with {@code urls}: the running system's Kafka bootstrap servers, for the floor; empty without
 * @param home       where started systems keep their data and logs
 * @param aot        whether started systems load the JDK's AOT cache, as {@code conveyor-local} does from its second
 *                   run, a system that trains it (unmeasured) running first when this build has none
 * @param timeline   whether each measured burst (W1, W2, W4) also prints its {@link Timeline}
 * @param javaOptions {@code conveyor-local}'s {@code --api-java-option=} and {@code --worker-java-option=} options,
 *                   in order, for every system the benchmark starts
 * @param help       whether only the help text was asked for
 */
record BenchOptions(List<Workload> workloads, List<SystemShape> scaling, List<Workload> scalingWorkloads, int runs, List<Integer> warmups,
                    int w1Jobs, int batchSize, int clients, int w2Jobs, int w2DelayMs, int w3Rate, int w3Seconds,
                    int w4Jobs, int w4SleepMs, List<URI> urls, Map<String, List<Long>> pids, String jdbc, String kafka,
                    Path home, boolean aot, boolean timeline, List<String> javaOptions, boolean help) {

    static final String HELP = """
            Usage: ./bench.sh [options]

            Starts Conveyor with the embedded defaults (PostgreSQL, a Kafka broker, one api, one worker), runs the
            workloads, checks that every job SUCCEEDED, and prints one table: jobs/s, latency from the client's
            submit to the outcome, CPU per job and peak memory of each process. Figures are the median of the runs,
            with the smallest and largest in brackets. Then, on the same PostgreSQL and broker, the floor: a bare
            hand-written Kafka + PostgreSQL job path and PostgreSQL alone, to compare Conveyor's rows with.

              --quick                 one run each, smaller sizes, no scaling rows (about 2 minutes on a
                                      quiet 2-core machine, the floor included; 4 to 6 on a busy one)
              --workloads=LIST        of w1-batch, w1-single, w2, w3, w4, and without Conveyor on the same
                                      PostgreSQL and broker: floor-w1, floor-w2, floor-w3 (the bare Kafka +
                                      PostgreSQL path in W1's, W2's and W3's shapes), floor-w1-single and
                                      floor-w3-http (W1's single POSTs and W3's POST and long-poll per job,
                                      sent to a minimal HTTP server in front of that path),
                                      pg-batches, pg-single (PostgreSQL alone; pg-alone is both) (default
                                      all, the floor after Conveyor's)
              --runs=N                measured runs per workload (default 3; --quick 1)
              --warmup=N[,M]          jobs sent through the same path before measuring; with two sizes, each
                                      gets fresh systems (default 1000; cold 1000, steady 10000)
              --scaling=LIST          more systems for W1, as APIS x WORKERS: 1x2,1x4,2x2 (default), or none
              --scaling-workloads=L   the W1 variants run on them, when also in --workloads: w1-batch
                                      (default), w1-single or both
              --w1-jobs=N             (default 20000; --quick 5000)
              --batch-size=N          jobs per POST /v1/jobs/batch (default 1000)
              --clients=N             clients of W1's single POSTs (default 64)
              --w2-jobs=N             (default 5000; --quick 2000)
              --w2-delay-ms=N         the HTTP server's answer time (default 50)
              --w3-rate=N             submissions per second (default 500)
              --w3-seconds=N          (default 20; --quick 10)
              --w4-jobs=N             (default 10000)
              --w4-sleep-ms=N         (default 10000)
              --url=URL[,URL]         measure running apis instead of starting a system (no scaling rows); their
                                      workers must allow 127.0.0.1 for W2
                                      (conveyor.worker.http.allowed-addresses=127.0.0.1/32)
              --pids=ROLE:PID,...     with --url: processes to measure, roles api, worker, broker, postgres
              --jdbc=URL              with --url: the system's database for the floor workloads, such as
                                      jdbc:postgresql://localhost:5432/conveyor?user=conveyor&password=conveyor
                                      (the floor uses a schema of its own, bench_floor); without it and
                                      --kafka the floor workloads are skipped
              --kafka=HOST:PORT,...   with --url: the system's Kafka bootstrap servers, for the floor
              --home=DIR              data and logs of started systems (default ./.conveyor-bench)
              --aot                   start the api and workers from the JDK's AOT cache (classes loaded and
                                      linked, method profiles), as conveyor-local does from its second run;
                                      when this build has no cache under --home yet, a first system trains
                                      one, unmeasured: each workload's warm-up (at least 10,000 jobs), then
                                      a stop that writes it. Without --aot every system starts cold
              --timeline              after each measured run of W1, W2 or W4, where its jobs were over time:
                                      how many were stored, started, finished and recorded in each step
                                      (about 40 steps) from the run's first submit
              --worker-java-option=OPT, --api-java-option=OPT
                                      a JVM option for the workers, or the apis, of every system started
                                      (repeatable; as conveyor-local takes them), e.g.
                                      --worker-java-option=-XX:TieredStopAtLevel=1
            """;

    /** A system to start: how many api and worker processes. */
    record SystemShape(int apis, int workers) {

        static SystemShape parse(String text) {
            var parts = text.strip().toLowerCase().split("x");
            if (parts.length != 2) {
                throw new IllegalArgumentException("'" + text + "' is not APIS x WORKERS, such as 1x4");
            }
            return new SystemShape(number("--scaling apis", parts[0], 1, 8), number("--scaling workers", parts[1], 1, 64));
        }

        @Override
        public String toString() {
            return apis + (apis == 1 ? " api, " : " apis, ") + workers + (workers == 1 ? " worker" : " workers");
        }
    }

    static BenchOptions parse(String... args) {
        var values = new LinkedHashMap<String, String>();
        var quick = false;
        var aot = false;
        var timeline = false;
        var help = false;
        var javaOptions = new ArrayList<String>();
        for (var arg : args) {
            if (arg.startsWith("--api-java-option=") || arg.startsWith("--worker-java-option=")) {
                javaOptions.add(arg);
                continue;
            }
            switch (arg) {
                case "--quick" -> quick = true;
                case "--aot" -> aot = true;
                case "--timeline" -> timeline = true;
                case "--help", "-h" -> help = true;
                default -> {
                    if (!arg.startsWith("--") || !arg.contains("=")) {
                        throw new IllegalArgumentException("unexpected argument '" + arg + "'; see --help");
                    }
                    values.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
                }
            }
        }
        var read = new Reader(values);
        var options = new BenchOptions(
                read.list("workloads",
                        "w1-batch,w1-single,w2,w3,w4,floor-w1,floor-w1-single,floor-w2,floor-w3,floor-w3-http,pg-alone").stream()
                        .flatMap(id -> Workload.listed(id).stream()).distinct().toList(),
                read.list("scaling", quick ? "none" : "1x2,1x4,2x2").stream().filter(s -> !s.equals("none"))
                        .map(SystemShape::parse).toList(),
                scalingWorkloads(read.list("scaling-workloads", "w1-batch")),
                read.number("runs", quick ? 1 : 3, 1, 100),
                read.list("warmup", "1000").stream().map(n -> number("--warmup", n, 0, 1_000_000)).toList(),
                read.number("w1-jobs", quick ? 5_000 : 20_000, 1, 10_000_000),
                read.number("batch-size", 1_000, 1, 1_000),
                read.number("clients", 64, 1, 10_000),
                read.number("w2-jobs", quick ? 2_000 : 5_000, 1, 10_000_000),
                read.number("w2-delay-ms", 50, 0, 60_000),
                read.number("w3-rate", 500, 1, 100_000),
                read.number("w3-seconds", quick ? 10 : 20, 1, 3_600),
                read.number("w4-jobs", 10_000, 1, 1_000_000),
                read.number("w4-sleep-ms", 10_000, 0, 600_000),
                read.list("url", "").stream().map(url -> URI.create(url.endsWith("/") ? url : url + "/")).toList(),
                pids(read.list("pids", "")),
                read.text("jdbc", ""),
                read.text("kafka", ""),
                Path.of(read.text("home", ".conveyor-bench")),
                aot,
                timeline,
                List.copyOf(javaOptions),
                help);
        read.checkAllUsed();
        if (options.urls().isEmpty() && !(options.jdbc().isEmpty() && options.kafka().isEmpty())) {
            throw new IllegalArgumentException("--jdbc and --kafka go with --url: a started system brings its own");
        }
        if (!javaOptions.isEmpty() && !options.urls().isEmpty()) {
            throw new IllegalArgumentException("--api-java-option and --worker-java-option go with the systems the "
                    + "benchmark starts, not with --url");
        }
        try {
            LocalOptions.parse(javaOptions.toArray(String[]::new));
        } catch (LocalOptions.InvalidOptionException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        if (options.aot() && !options.urls().isEmpty()) {
            throw new IllegalArgumentException("--aot goes with the systems the benchmark starts, not with --url");
        }
        if (!options.jdbc().isEmpty() && !options.jdbc().startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("--jdbc must be a PostgreSQL JDBC URL (jdbc:postgresql://...), not '"
                    + options.jdbc() + "'");
        }
        return options;
    }

    private static List<Workload> scalingWorkloads(List<String> ids) {
        var workloads = ids.stream().map(Workload::named).distinct().toList();
        for (var workload : workloads) {
            if (!workload.isW1()) {
                throw new IllegalArgumentException("--scaling-workloads takes only w1-batch and w1-single, not "
                        + workload.title());
            }
        }
        return workloads;
    }

    private static Map<String, List<Long>> pids(List<String> items) {
        var pids = new LinkedHashMap<String, List<Long>>();
        for (var item : items) {
            var colon = item.indexOf(':');
            var role = colon < 0 ? "" : item.substring(0, colon);
            if (!Set.of("api", "worker", "broker", "postgres").contains(role)) {
                throw new IllegalArgumentException("--pids: '" + item + "' is not ROLE:PID with a role of api, worker,"
                        + " broker, postgres");
            }
            pids.computeIfAbsent(role, r -> new ArrayList<>()).add((long) number("--pids", item.substring(colon + 1), 1,
                    Integer.MAX_VALUE));
        }
        return pids;
    }

    static int number(String name, String value, int min, int max) {
        try {
            var number = Integer.parseInt(value.strip().replace("_", ""));
            if (number >= min && number <= max) {
                return number;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(name + " must be a whole number from " + min + " to " + max + ", not '"
                + value + "'");
    }

    /** Takes the options by name, remembering which were used, so that a misspelt one is reported. */
    private static final class Reader {

        private final Map<String, String> values;
        private final Set<String> used = new LinkedHashSet<>();

        Reader(Map<String, String> values) {
            this.values = values;
        }

        String text(String name, String otherwise) {
            used.add(name);
            return values.getOrDefault(name, otherwise);
        }

        int number(String name, int otherwise, int min, int max) {
            var value = text(name, null);
            return value == null ? otherwise : BenchOptions.number("--" + name, value, min, max);
        }

        List<String> list(String name, String otherwise) {
            return Arrays.stream(text(name, otherwise).split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
        }

        void checkAllUsed() {
            for (var name : values.keySet()) {
                if (!used.contains(name)) {
                    throw new IllegalArgumentException("unknown option --" + name + "; see --help");
                }
            }
        }
    }
}
