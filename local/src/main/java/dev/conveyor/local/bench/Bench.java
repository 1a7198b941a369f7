package dev.conveyor.local.bench;

import dev.conveyor.local.LocalOptions;
import dev.conveyor.local.LocalSystem;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * {@code ./bench.sh}: starts Conveyor on this machine (or measures a running one), runs issue #8's workloads W1-W4,
 * then the floor under them on the same PostgreSQL and broker ({@link FloorRuns}), and the W1 scaling systems, and
 * prints one table. See {@link BenchOptions#HELP}.
 */
public final class Bench {

    private static final String WORKER_ALLOWS_BENCH_SERVER = "--conveyor.worker.http.allowed-addresses=127.0.0.1/32";
    /** The fewest jobs of each workload that train an AOT cache (--aot). */
    static final int TRAINING_JOBS = 10_000;

    private final BenchOptions options;
    private final Report report = new Report();
    private final Client client = new Client();
    private final DelayServer server;

    private Bench(BenchOptions options) {
        this.options = options;
        this.server = new DelayServer(Duration.ofMillis(options.w2DelayMs()));
    }

    public static void main(String[] args) {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "conveyor-local-logback.xml");
        }
        BenchOptions options;
        try {
            options = BenchOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage());
            System.exit(2);
            return;
        }
        // Cold unless --aot: a system that trains an AOT cache works harder while measured, so with --aot a system
        // of its own trains it first (see onSystem).
        System.setProperty("conveyor.local.cold", Boolean.toString(!options.aot()));
        if (options.help()) {
            System.out.print(BenchOptions.HELP);
            return;
        }
        var started = System.nanoTime();
        var bench = new Bench(options);
        try {
            bench.run();
        } catch (RuntimeException e) {
            System.out.println();
            System.out.println("bench: FAILED: " + e.getMessage());
            e.printStackTrace();
            System.exit(1);
        } finally {
            bench.close();
        }
        System.out.printf("%nbench took %.1f min%n", (System.nanoTime() - started) / 60e9);
        System.exit(0);
    }

    private void run() {
        var header = Report.machine() + System.lineSeparator() + settings();
        System.out.println(header);
        for (var warmup : options.warmups()) {
            if (!options.urls().isEmpty()) {
                var roles = new ArrayList<Role>();
                options.pids().forEach((role, pids) -> roles.add(new Role(role, pids, role.equals("postgres"))));
                measure(options.urls(), roles, "running system", warmup, options.workloads(),
                        new FloorTarget(options.jdbc(), null, null, options.kafka()));
                continue;
            }
            onSystem(new BenchOptions.SystemShape(1, 1), warmup, options.workloads());
            var scaled = options.scalingWorkloads().stream().filter(options.workloads()::contains).toList();
            if (!scaled.isEmpty()) {
                for (var shape : options.scaling()) {
                    onSystem(shape, warmup, scaled);
                }
            }
        }
        var table = header + System.lineSeparator() + System.lineSeparator() + report;
        System.out.println();
        System.out.println(table);
        save(table);
    }

    private void onSystem(BenchOptions.SystemShape shape, int warmup, List<Workload> workloads) {
        System.out.println();
        System.out.println("== " + shape + ", warm-up " + warmup + " jobs");
        var first = start(shape);
        if (first.warmStart().equals("trains")) {
            // --aot and no cache for this build yet: this system records one as it stops. Training works the JVMs
            // harder, so it is not measured; the system measured next loads the cache.
            onStarted(first, system -> train(system, warmup, workloads));
            System.out.println();
            first = start(shape);
        }
        if (options.aot() && !first.warmStart().equals("cache")) {
            System.out.println("(--aot, but this system started " + first.warmStart() + ", without an AOT cache)");
        }
        onStarted(first, system -> measure(apis(system), roles(system.processes()), shape.toString(), warmup,
                workloads, new FloorTarget(system.jdbcUrl(), system.jdbcUser(), system.jdbcPassword(),
                        system.kafkaBootstrap())));
    }

    private LocalSystem start(BenchOptions.SystemShape shape) {
        var args = new ArrayList<>(List.of("--port=" + freePorts(shape.apis()), "--apis=" + shape.apis(),
                "--workers=" + shape.workers(), "--home=" + options.home(),
                "--worker-arg=" + WORKER_ALLOWS_BENCH_SERVER));
        args.addAll(options.javaOptions());
        var local = LocalOptions.parse(args.toArray(String[]::new));
        try {
            return LocalSystem.start(local, System.out);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the system: " + e.getMessage(), e);
        }
    }

    /** Runs {@code work} on a started system, then stops it, also when the benchmark is stopped meanwhile. */
    private static void onStarted(LocalSystem system, Consumer<LocalSystem> work) {
        var stop = new Thread(system::stop, "bench-stop");
        Runtime.getRuntime().addShutdownHook(stop);
        try {
            work.accept(system);
        } finally {
            system.stop();
            Runtime.getRuntime().removeShutdownHook(stop);
        }
    }

    private static List<URI> apis(LocalSystem system) {
        return system.apiUris().stream().map(uri -> uri.resolve("/")).toList();
    }

    /**
     * Sends each of Conveyor's workloads through the system as its warm-up does, at least {@link #TRAINING_JOBS}
     * jobs each, so that the cache the system writes as it stops holds the classes and method profiles of the paths
     * that are measured.
     */
    private void train(LocalSystem system, int warmup, List<Workload> workloads) {
        var jobs = Math.max(TRAINING_JOBS, warmup);
        System.out.printf("training the AOT cache (not measured): each workload's warm-up with %,d jobs, then a stop"
                + " that writes the cache%n", jobs);
        var runs = new Runs(client, apis(system), roles(system.processes()), options, server);
        for (var workload : workloads.stream().filter(w -> !w.onFloor()).toList()) {
            System.out.printf("%s: %,d jobs... ", workload.title(), jobs);
            System.out.flush();
            runs.warmUp(workload, jobs);
            System.out.println("done");
        }
    }

    private void measure(List<URI> apis, List<Role> roles, String system, int warmup, List<Workload> workloads,
            FloorTarget floor) {
        var withBench = new ArrayList<>(roles);
        withBench.add(new Role("bench", List.of(ProcessHandle.current().pid()), false));
        var runs = new Runs(client, apis, withBench, options, server);
        for (var workload : workloads.stream().filter(w -> !w.onFloor()).toList()) {
            measure(workload, system, warmup, runs::warmUp, runs::measure);
        }
        var floorWorkloads = workloads.stream().filter(Workload::onFloor).toList();
        if (floorWorkloads.isEmpty()) {
            return;
        }
        if (floor.jdbcUrl().isEmpty()) {
            floorWorkloads.forEach(w -> System.out.println(w.title() + ": skipped: on a running system it needs --jdbc"
                    + (w.bare() ? " and --kafka" : "")));
            return;
        }
        // Conveyor's api and worker idle meanwhile: their CPU shows among the others.
        var floorRoles = withBench.stream().filter(role -> Set.of("broker", "postgres", "bench").contains(role.name()))
                .toList();
        try (var floors = new FloorRuns(floor, floorRoles, options, server)) {
            for (var workload : floorWorkloads) {
                if (workload.bare() && floor.bootstrap().isEmpty()) {
                    System.out.println(workload.title() + ": skipped: on a running system it needs --kafka");
                    continue;
                }
                measure(workload, workload.floorSystem(), warmup, floors::warmUp, floors::measure);
            }
        }
    }

    private void measure(Workload workload, String system, int warmup, BiConsumer<Workload, Integer> warmUp,
            Function<Workload, RunResult> run) {
        System.out.printf("%s: warming up with %,d jobs... ", workload.title(), warmup);
        System.out.flush();
        warmUp.accept(workload, warmup);
        System.out.println("done");
        var results = new ArrayList<RunResult>();
        for (var n = 1; n <= options.runs(); n++) {
            var result = run.apply(workload);
            results.add(result);
            System.out.println("  run " + n + "/" + options.runs() + ": " + Report.line(result));
        }
        report.add(workload, system, warmup, results);
    }

    /** The roles of a system that {@code LocalSystem} started, from its processes by name. */
    static List<Role> roles(Map<String, Long> processes) {
        var apis = new ArrayList<Long>();
        var workers = new ArrayList<Long>();
        var roles = new ArrayList<Role>();
        processes.forEach((name, pid) -> {
            if (name.startsWith("api")) {
                apis.add(pid);
            } else if (name.startsWith("worker")) {
                workers.add(pid);
            }
        });
        roles.add(new Role("api", apis, false));
        roles.add(new Role("worker", workers, false));
        if (processes.containsKey("kafka")) {
            roles.add(new Role("broker", List.of(processes.get("kafka")), false));
        }
        if (processes.containsKey("postgres")) {
            roles.add(new Role("postgres", List.of(processes.get("postgres")), true));
        }
        return roles;
    }

    private String settings() {
        return String.format("settings: workloads %s; %d run(s) each; warm-up %s jobs; W1 %,d jobs (batches of %,d, or"
                        + " single POSTs from %d clients); W2 %,d http GETs answered after %d ms; W3 %d jobs/s for %d s;"
                        + " W4 %,d sleep jobs of %,d ms; scaling: %s; %s",
                options.workloads().stream().map(Workload::title).toList(), options.runs(), options.warmups(),
                options.w1Jobs(), options.batchSize(), options.clients(), options.w2Jobs(), options.w2DelayMs(),
                options.w3Rate(), options.w3Seconds(), options.w4Jobs(), options.w4SleepMs(),
                options.scaling().isEmpty() ? "none" : options.scalingWorkloads().stream().map(Workload::title).toList()
                        + " on " + options.scaling(),
                options.urls().isEmpty() ? "systems started with conveyor-local's defaults (embedded PostgreSQL,"
                        + " one Kafka broker), workers allowing 127.0.0.1 for W2, api and workers "
                        + (options.aot() ? "from the AOT cache (--aot)" : "started cold (no AOT cache)")
                        + (options.javaOptions().isEmpty() ? "" : ", with " + String.join(" ", options.javaOptions()))
                        : "running system at " + options.urls());
    }

    private void save(String table) {
        try {
            Files.createDirectories(options.home());
            var file = options.home().resolve("bench-" + LocalDateTime.now()
                    .format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + ".md");
            Files.writeString(file, table);
            System.out.println("(saved in " + file + ")");
        } catch (IOException e) {
            System.out.println("(could not save the table: " + e.getMessage() + ")");
        }
    }

    /** A port from which {@code count} consecutive ports are free. */
    private static int freePorts(int count) {
        for (var attempt = 0; attempt < 50; attempt++) {
            int first;
            try (var socket = new ServerSocket(0)) {
                first = socket.getLocalPort();
            } catch (IOException e) {
                continue;
            }
            if (first + count - 1 <= 65535 && allFree(first, count)) {
                return first;
            }
        }
        throw new IllegalStateException("found no " + count + " consecutive free ports");
    }

    private static boolean allFree(int first, int count) {
        for (var port = first; port < first + count; port++) {
            try (var socket = new ServerSocket(port, 1, InetAddress.getByName("0.0.0.0"))) {
                // free
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }

    private void close() {
        client.close();
        server.close();
    }
}
