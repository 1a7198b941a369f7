package dev.conveyor.local;

import dev.conveyor.common.kafka.QueueTopics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;

/**
 * The whole system in real processes for fault tests: an embedded PostgreSQL, a Kafka broker, api processes and
 * worker processes, each of which can be killed and started again on the same ports and data. Public so that tests
 * in other packages can drive it; the launcher's classes it uses stay package-private.
 */
public final class FaultCluster implements AutoCloseable {

    /** Settings of the processes this cluster starts. */
    public record Settings(int apis, int workers, List<String> queues, Map<String, String> brokerProperties,
            List<String> apiArgs, List<String> workerArgs, List<String> childJvmOptions) {
    }

    /** One api process: its port stays the same across restarts. */
    public final class Api {
        private final String name;
        private final int port;
        private final List<String> extraArgs;
        private volatile ChildProcess process;

        private Api(String name, int port, List<String> extraArgs) {
            this.name = name;
            this.port = port;
            this.extraArgs = List.copyOf(extraArgs);
        }

        public String name() {
            return name;
        }

        public String baseUrl() {
            return "http://localhost:" + port;
        }

        public long pid() {
            return process.pid();
        }

        public boolean isAlive() {
            return process != null && process.isAlive();
        }

        /** SIGKILL, as a crash would. */
        public void kill() {
            process.kill();
        }

        /** SIGTERM, as a deploy would; waits up to {@code grace}, then kills it. True when it went by itself. */
        public boolean stop(Duration grace) {
            return process.stop(grace);
        }

        /** Starts the process again (after a kill) on the same port, and waits until it is healthy. */
        public void restart() {
            if (isAlive()) {
                throw new IllegalStateException(name + " still runs");
            }
            launch();
            awaitHealthy();
        }

        private void launch() {
            var args = new ArrayList<>(List.of("--server.port=" + port, "--spring.datasource.url=" + postgres.jdbcUrl(),
                    "--spring.datasource.username=" + EmbeddedPostgresService.USER,
                    "--spring.datasource.password=" + EmbeddedPostgresService.PASSWORD,
                    "--spring.kafka.bootstrap-servers=" + kafka.bootstrapServers()));
            args.addAll(settings.apiArgs());
            args.addAll(extraArgs);
            process = ChildProcess.start(name, java.command(LocalSystem.API_MAIN, jvmOptions, args), log(name));
        }

        /** Waits for readiness (the database), which needs no API key even where the api has keys configured. */
        public void awaitHealthy() {
            Readiness.await(name + " at " + baseUrl(), LocalSystem.API_TIMEOUT, List.of(process),
                    Readiness.httpOk(URI.create(baseUrl() + "/actuator/health/readiness")));
        }
    }

    /** One worker process; a replacement gets a new name (and worker id). */
    public final class Worker {
        private final String id;
        private final ChildProcess process;

        private Worker(String id, ChildProcess process) {
            this.id = id;
            this.process = process;
        }

        /** The worker id, as jobs' {@code workerId} shows it. */
        public String id() {
            return id;
        }

        public long pid() {
            return process.pid();
        }

        /** Where its output goes. */
        public Path log() {
            return process.logFile();
        }

        public boolean isAlive() {
            return process.isAlive();
        }

        public java.util.concurrent.CompletableFuture<Process> onExit() {
            return process.onExit();
        }

        /** SIGKILL, as a crash would. */
        public void kill() {
            process.kill();
        }

        /** SIGTERM (a graceful drain), then a kill after {@code grace}. */
        public boolean stop(Duration grace) {
            return process.stop(grace);
        }

        @Override
        public String toString() {
            return id + " (pid " + pid() + ")";
        }
    }

    private final Settings settings;
    private final Path home;
    private final JavaLauncher java = JavaLauncher.current();
    private final List<String> jvmOptions;
    private final List<Api> apis = new ArrayList<>();
    private final List<Worker> workers = new CopyOnWriteArrayList<>();
    private final List<ChildProcess> everyChild = new CopyOnWriteArrayList<>();
    private EmbeddedPostgresService postgres;
    private KafkaBrokerProcess kafka;
    private int nextWorker = 1;
    /** Kills every child if this JVM ends without {@link #close()} (e.g. Surefire killing a hung run). */
    private final Thread killOnExit = new Thread(this::killAll, "fault-cluster-kill-on-exit");

    private FaultCluster(Settings settings, Path home) {
        this.settings = settings;
        this.home = home;
        var options = new ArrayList<>(settings.childJvmOptions());
        // Marks the children as this cluster's, to recognise them in a process list.
        options.add("-Dconveyor.faults.home=" + home.toAbsolutePath().normalize());
        this.jvmOptions = List.copyOf(options);
    }

    /**
     * Starts PostgreSQL and Kafka (queue topics created up front with {@code partitions.get(queue)} partitions), the
     * first api (which migrates the database) and the workers, then the other apis; returns when every api is
     * healthy (the workers are launched, not awaited). Stops what it started if anything fails.
     */
    public static FaultCluster start(Settings settings, Path home, Map<String, Integer> partitions) {
        var cluster = new FaultCluster(settings, home);
        Runtime.getRuntime().addShutdownHook(cluster.killOnExit);
        try {
            cluster.startAll(partitions);
            return cluster;
        } catch (RuntimeException | Error e) {
            cluster.close();
            throw e;
        }
    }

    private void startAll(Map<String, Integer> partitions) {
        // PostgreSQL and Kafka need nothing of each other: they start side by side
        var postgresStart = CompletableFuture.supplyAsync(
                () -> EmbeddedPostgresService.start(home.resolve("data/postgres"), 0, log("postgres")));
        try {
            kafka = KafkaBrokerProcess.start(java, jvmOptions, home.resolve("data/kafka"), log("kafka"),
                    settings.brokerProperties(), everyChild::add);
        } catch (RuntimeException | Error e) {
            try {
                postgres = awaitPostgres(postgresStart); // for close() to stop it
            } catch (RuntimeException | Error also) {
                e.addSuppressed(also);
            }
            throw e;
        }
        postgres = awaitPostgres(postgresStart);
        try (var admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            partitions.forEach((queue, count) -> new QueueTopics(admin, count, (short) 1).ensure(queue));
        }
        try {
            var ports = KafkaBrokerProcess.freePorts(settings.apis());
            for (var n = 0; n < settings.apis(); n++) {
                apis.add(new Api("api-" + (n + 1), ports[n], List.of()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // The first api alone: two starting together would both run the migrations (Flyway locks, but slowly). The
        // workers need only Kafka (they create the topics they use as the api does): they start beside it.
        apis.getFirst().launch();
        everyChild.add(apis.getFirst().process);
        for (var n = 0; n < settings.workers(); n++) {
            startWorker();
        }
        apis.getFirst().awaitHealthy();
        apis.stream().skip(1).forEach(api -> {
            api.launch();
            everyChild.add(api.process);
        });
        apis.forEach(Api::awaitHealthy);
    }

    /** PostgreSQL once started, with the cause of a failed start as it was thrown. */
    private static EmbeddedPostgresService awaitPostgres(CompletableFuture<EmbeddedPostgresService> start) {
        try {
            return start.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            if (e.getCause() instanceof Error cause) {
                throw cause;
            }
            throw e;
        }
    }

    /**
     * Starts one more api on a free port, with {@code extraArgs} after the settings' (API keys, say), sharing the
     * database and Kafka with the others; returns once it is ready.
     */
    public Api startApi(String... extraArgs) {
        var api = launchApi(extraArgs);
        api.awaitHealthy();
        return api;
    }

    /** As {@link #startApi}, without waiting for it: {@link Api#awaitHealthy()} does. */
    public Api launchApi(String... extraArgs) {
        Api api;
        try {
            synchronized (this) {
                api = new Api("api-" + (apis.size() + 1), KafkaBrokerProcess.freePorts(1)[0], List.of(extraArgs));
                apis.add(api);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        api.launch();
        everyChild.add(api.process);
        return api;
    }

    /** Starts one more worker (a replacement, or an extra one) with the next free name; does not wait for it. */
    public Worker startWorker(String... extraArgs) {
        String id;
        synchronized (this) {
            id = "fw-" + nextWorker++ + "@faults";
        }
        var args = new ArrayList<>(List.of("--server.port=0", "--spring.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
                "--conveyor.worker.id=" + id, "--conveyor.worker.queues=" + String.join(",", settings.queues())));
        args.addAll(settings.workerArgs());
        args.addAll(List.of(extraArgs));
        var name = id.substring(0, id.indexOf('@'));
        var child = ChildProcess.start(name, java.command(LocalSystem.WORKER_MAIN, jvmOptions, args), log(name));
        everyChild.add(child);
        var worker = new Worker(id, child);
        workers.add(worker);
        return worker;
    }

    public List<Api> apis() {
        return List.copyOf(apis);
    }

    /** Every worker started so far, alive or not. */
    public List<Worker> workers() {
        return List.copyOf(workers);
    }

    public List<Worker> liveWorkers() {
        return workers.stream().filter(Worker::isAlive).toList();
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    public boolean kafkaAlive() {
        return kafka.process().isAlive();
    }

    /** SIGKILL the broker. */
    public void killKafka() {
        kafka.kill();
    }

    /**
     * Freezes the broker (SIGSTOP): its connections stay open and nothing answers, as with a broker that hangs or a
     * network that drops packets, where a killed one refuses connections at once.
     */
    public void freezeKafka() {
        signal("-STOP", kafka.process().pid());
    }

    /** Lets a frozen broker go on (SIGCONT). */
    public void thawKafka() {
        signal("-CONT", kafka.process().pid());
    }

    private static void signal(String signal, long pid) {
        try {
            var exit = new ProcessBuilder("kill", signal, String.valueOf(pid)).inheritIO().start().waitFor();
            if (exit != 0) {
                throw new IllegalStateException("kill " + signal + " " + pid + " exited with " + exit);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Starts the broker again on the same ports and data, and waits until it answers. */
    public void restartKafka() {
        kafka.restart();
        everyChild.add(kafka.process());
    }

    /** Stops PostgreSQL in immediate mode (as a crash would look to its clients). */
    public void stopPostgresImmediately() {
        postgres.stopImmediately();
    }

    public boolean postgresAlive() {
        return postgres.pid().flatMap(ProcessHandle::of).map(ProcessHandle::isAlive).orElse(false);
    }

    /** Starts PostgreSQL again on the same port and data. */
    public void restartPostgres() {
        postgres.restart();
    }

    public String jdbcUrl() {
        return postgres.jdbcUrl();
    }

    public Path logs() {
        return home.resolve("logs");
    }

    /** The last lines of every process's log, stack frames left out: what to print when a test fails. */
    public String tails(int lines) {
        var out = new StringBuilder();
        var seen = new LinkedHashMap<Path, ChildProcess>();
        everyChild.forEach(child -> seen.put(child.logFile(), child));
        seen.values().forEach(child -> out.append("---- ").append(child.logFile()).append(" (").append(child)
                .append(child.isAlive() ? ", running" : ", exited").append(")").append(System.lineSeparator())
                .append(child.tail(lines)).append(System.lineSeparator()));
        try {
            var pg = log("postgres");
            if (Files.exists(pg)) {
                var all = Files.readAllLines(pg);
                out.append("---- ").append(pg).append(System.lineSeparator())
                        .append(String.join(System.lineSeparator(), all.subList(Math.max(0, all.size() - lines), all.size())))
                        .append(System.lineSeparator());
            }
        } catch (IOException e) {
            out.append("(cannot read the PostgreSQL log: ").append(e.getMessage()).append(")");
        }
        return out.toString();
    }

    private void killAll() {
        everyChild.stream().filter(ChildProcess::isAlive).forEach(ChildProcess::kill);
        if (postgres != null) {
            postgres.pid().flatMap(ProcessHandle::of).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /** Stops every process (a short grace, then a kill: the test is over) and PostgreSQL; the logs stay. */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException e) {
            // the JVM is shutting down already; the hook runs
        }
        Stream.concat(workers.stream().map(w -> w.process), apis.stream().map(a -> a.process))
                .filter(p -> p != null && p.isAlive()).forEach(ChildProcess::requestStop);
        for (var child : everyChild) {
            if (child.isAlive()) {
                child.stop(Duration.ofSeconds(5));
            }
        }
        if (postgres != null) {
            try {
                postgres.close();
            } catch (RuntimeException e) {
                System.err.println("could not stop PostgreSQL: " + e);
            }
        }
    }

    private Path log(String name) {
        return home.resolve("logs").resolve(name + ".log");
    }
}
