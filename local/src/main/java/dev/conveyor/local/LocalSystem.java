package dev.conveyor.local;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** The processes of one local Conveyor: starts them in order, watches them, stops them in reverse. */
public final class LocalSystem {

    static final String API_MAIN = "dev.conveyor.api.ConveyorApiApplication";
    static final String WORKER_MAIN = "dev.conveyor.worker.ConveyorWorkerApplication";
    // Generous: on two cores shared with builds, the api has been seen to need 115 s to start.
    static final Duration API_TIMEOUT = Duration.ofSeconds(300);
    static final Duration STOP_GRACE = Duration.ofSeconds(30);
    /**
     * How long a stop waits for a start under way to end once told to: PostgreSQL's start cannot be cut short (its
     * server is launched by zonky's {@code pg_ctl}, and waited for up to 60 s), the others end as their processes go.
     */
    static final Duration START_END_WAIT = Duration.ofSeconds(90);
    static final String API_HEAP = "1g";
    static final String WORKER_HEAP = "512m";
    /**
     * C2 inlines less into each method than the JDK's default (FreqInlineSize 325, InlineSmallCode 2500), so its
     * compilations are smaller and end sooner: on two cores the api's and the worker's compiler threads took as much
     * CPU as their work for the first tens of thousands of jobs. docs/performance.md, "C2 inlines less in the api and
     * the worker".
     */
    static final List<String> SMALL_INLINING = List.of("-XX:FreqInlineSize=50", "-XX:InlineSmallCode=500");

    private final LocalOptions options;
    private JavaLauncher java;
    private WarmStart warmStart = WarmStart.off();
    /** The api and worker that record the AOT cache as they stop (a worker started again takes its place). */
    private final List<ChildProcess> training = new CopyOnWriteArrayList<>();
    private final PrintStream out;
    private final List<String> jvmOptions;
    private final Leftovers leftovers;
    private final List<ChildProcess> apis = new ArrayList<>();
    /** The workers by number; one started again takes the place of the one that ended. */
    private final List<ChildProcess> workers = new CopyOnWriteArrayList<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** Every process launched here, as soon as it is launched: a stop during the start stops these. */
    private final List<ChildProcess> launched = new CopyOnWriteArrayList<>();
    private final CountDownLatch startEnded = new CountDownLatch(1);
    private volatile boolean startBegun;
    private EmbeddedPostgresService postgres;
    private KafkaBrokerProcess kafka;
    private String jdbcUrl;
    private String jdbcUser;
    private String jdbcPassword;
    private String bootstrap;
    private volatile boolean stopping;
    /** Where the waits before a worker starts again run: a thread made at the first one, ended by the stop. */
    private final ScheduledExecutorService restartTimer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("conveyor-local-restarts").factory());
    private final WorkerRestarts.Delays restartDelays;

    LocalSystem(LocalOptions options, JavaLauncher java, PrintStream out) {
        this(options, java, out, null);
    }

    /** {@code restartDelays}: what waits before a worker starts again (for the tests); null for a timer thread. */
    LocalSystem(LocalOptions options, JavaLauncher java, PrintStream out, WorkerRestarts.Delays restartDelays) {
        this.restartDelays = restartDelays != null ? restartDelays : this::afterOnTimer;
        this.options = options;
        this.java = java;
        this.out = out;
        this.leftovers = new Leftovers(options.home());
        // The marker lets a later run recognise leftovers by their command line. Compact object headers (JDK 25,
        // JEP 519): 8-byte headers instead of 12 cost the api, the worker and the broker less CPU per job in four
        // side-by-side pairs (docs/performance.md "Compact object headers").
        this.jvmOptions = List.of("-Dconveyor.local.home=" + options.home().toAbsolutePath().normalize(),
                "-XX:+UseCompactObjectHeaders");
    }

    /**
     * For programs that run a system of their own (the benchmark): stops what an earlier run with the same home left
     * behind, starts everything (stopping it again if that fails) and records the pids for the next run.
     */
    public static LocalSystem start(LocalOptions options, PrintStream out) throws IOException {
        Files.createDirectories(options.home());
        var leftovers = new Leftovers(options.home());
        leftovers.stopAll(out);
        FileTrees.delete(options.logs());
        Files.createDirectories(options.logs());
        var system = new LocalSystem(options, JavaLauncher.current(), out);
        try {
            system.start();
        } catch (RuntimeException e) {
            system.stop();
            throw e;
        }
        system.record(leftovers);
        return system;
    }

    /**
     * Starts everything and waits until the api is healthy; throws (having stopped nothing) on failure, and when
     * {@link #stop()} was called meanwhile.
     */
    void start() {
        startBegun = true;
        try {
            startAll();
        } finally {
            startEnded.countDown();
        }
    }

    private void startAll() {
        WarmStart.prepare(java, options.home(), out).ifPresent(prepared -> {
            java = prepared.java();
            warmStart = prepared.warmStart();
        });
        if (options.postgres().isPresent()) {
            var external = options.postgres().get();
            jdbcUrl = external.url();
            jdbcUser = external.user();
            jdbcPassword = external.password();
            out.println("using PostgreSQL at " + jdbcUrl);
        } else {
            postgres = starting("starting PostgreSQL", () -> EmbeddedPostgresService.start(
                    options.data().resolve("postgres"), 0, log("postgres"), options.postgresSettings()));
            postgres.pid().ifPresent(pid -> {
                leftovers.add(pid);
                PostgresTether.start(ProcessHandle.current().pid(), pid, options.data().resolve("postgres"),
                        log("postgres-tether"));
            });
            jdbcUrl = postgres.jdbcUrl();
            jdbcUser = EmbeddedPostgresService.USER;
            jdbcPassword = EmbeddedPostgresService.PASSWORD;
        }
        if (options.kafka().isPresent()) {
            bootstrap = options.kafka().get();
            out.println("using Kafka at " + bootstrap);
        } else {
            kafka = starting("starting Kafka", () -> KafkaBrokerProcess.start(java, jvmOptions,
                    options.data().resolve("kafka"), log("kafka"), Map.of(), this::launched));
            bootstrap = kafka.bootstrapServers();
        }
        for (var n = 1; n <= options.apis(); n++) {
            var name = options.apis() == 1 ? "api" : "api-" + n;
            var args = apiArgs(options, n, jdbcUrl, jdbcUser, jdbcPassword, bootstrap);
            var api = launch(name, java.command(API_MAIN,
                    childOptions("api", n == 1, API_HEAP, options.apiJavaOptions()), args), log(name));
            if (n == 1 && warmStart.trains("api")) {
                training.add(api);
            }
            apis.add(api);
        }
        var host = hostname();
        for (var n = 1; n <= options.workers(); n++) {
            var args = new ArrayList<>(List.of("--server.port=0", "--spring.kafka.bootstrap-servers=" + bootstrap,
                    "--conveyor.worker.id=worker-" + n + "@" + host,
                    "--conveyor.worker.queues=" + String.join(",", options.queues())));
            args.addAll(options.workerArgs());
            if (postgres != null) {
                // `sql` jobs run the demo statements (worker profile `demo`) on the embedded server's demo database.
                args.addAll(List.of("--spring.profiles.active=demo", "--conveyor.worker.sql.url=" + postgres.demoJdbcUrl(),
                        "--conveyor.worker.sql.username=" + EmbeddedPostgresService.USER,
                        "--conveyor.worker.sql.password=" + EmbeddedPostgresService.PASSWORD));
            }
            var worker = launch("worker-" + n,
                    java.command(WORKER_MAIN, childOptions("worker", n == 1, WORKER_HEAP, options.workerJavaOptions()),
                            args), log("worker-" + n));
            if (n == 1 && warmStart.trains("worker")) {
                training.add(worker);
            }
            workers.add(worker);
        }
        var watched = new ArrayList<>(children());
        var what = (options.apis() == 1 ? "api" : options.apis() + " apis") + " and " + options.workers() + " worker(s)";
        starting("starting " + what, () -> {
            for (var n = 1; n <= options.apis(); n++) {
                var health = healthUri(n);
                Readiness.await("the api at " + health, API_TIMEOUT, watched, Readiness.httpOk(health));
            }
            return null;
        });
        var restarts = options.restartWorkers()
                ? new WorkerRestarts(out, Clock.systemUTC(), restartDelays, this::restart) : null;
        var sentinel = new Sentinel(out, this::stopping, System::exit, restarts);
        children().forEach(sentinel::watch);
        if (postgres != null) {
            postgres.pid().ifPresentOrElse(pid -> sentinel.watchPostgres(pid, log("postgres")),
                    () -> out.println("!! cannot read PostgreSQL's pid: local will not notice if it stops"));
        }
    }

    /**
     * Starts a worker that ended again as it was started (name, command, log file, which it appends to), tethered and
     * its pid noted for a later run as at the start; empty once a stop has begun. One at a time with {@link #stop()}:
     * a worker started again just before a stop is among those it stops, and none starts during or after one.
     */
    synchronized Optional<ChildProcess> restart(ChildProcess ended) {
        var index = workers.indexOf(ended);
        if (stopping || index < 0) {
            return Optional.empty();
        }
        noteRestart(ended);
        var worker = ChildProcess.start(ended.name(), ended.command(), ended.logFile());
        launched.add(worker);
        workers.set(index, worker);
        if (training.remove(ended)) {
            training.add(worker);
        }
        try {
            leftovers.add(worker.pid());
        } catch (RuntimeException e) {
            // it runs all the same, and stops with the launcher (Tether), only a later run would not know it
            out.println("!! " + e.getMessage());
        }
        return Optional.of(worker);
    }

    /** A line in the worker's log between the output of the process that ended and that of the next one. */
    private static void noteRestart(ChildProcess ended) {
        try {
            Files.writeString(ended.logFile(), System.lineSeparator() + "--- conveyor-local: " + ended + " exited with "
                    + "code " + ended.exitValue() + "; starting it again ---" + System.lineSeparator(),
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            // the log only lacks the line: the worker's start, which opens the same file, says what is wrong
        }
    }

    private void afterOnTimer(Duration wait, Runnable task) {
        try {
            // the executor keeps what a task throws in its future, which nobody reads: said here instead
            restartTimer.schedule(() -> {
                try {
                    task.run();
                } catch (Throwable t) {
                    out.println("!! starting a worker again failed: " + t);
                    t.printStackTrace(out);
                }
            }, wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // the stop has ended the timer: nothing starts any more
        }
    }

    /** The command-line arguments of api number {@code n} (from 1): local's own, then the user's {@code --api-arg}s. */
    static List<String> apiArgs(LocalOptions options, int n, String jdbcUrl, String jdbcUser, String jdbcPassword,
            String bootstrap) {
        var args = new ArrayList<>(List.of("--server.port=" + options.apiPort(n), "--spring.datasource.url=" + jdbcUrl,
                "--spring.kafka.bootstrap-servers=" + bootstrap, "--conveyor.api.queues=" + String.join(",", options.queues())));
        if (jdbcUser != null) {
            args.add("--spring.datasource.username=" + jdbcUser);
        }
        if (jdbcPassword != null) {
            args.add("--spring.datasource.password=" + jdbcPassword);
        }
        args.addAll(options.apiArgs());
        return args;
    }

    /** Launches a process, unless a stop has begun; a stop that begins meanwhile stops it. */
    private ChildProcess launch(String name, List<String> command, Path logFile) {
        if (stopping) {
            throw new StoppedException();
        }
        var child = ChildProcess.start(name, command, logFile);
        launched(child);
        return child;
    }

    /** Notes a process launched here; if a stop has begun (it may have missed this one), stops it and gives up. */
    private void launched(ChildProcess child) {
        launched.add(child);
        leftovers.add(child.pid());
        if (stopping) {
            child.stop(STOP_GRACE);
            throw new StoppedException();
        }
    }

    /** The start gave up because {@link #stop()} was called. */
    static final class StoppedException extends RuntimeException {
        StoppedException() {
            super("stopped while starting");
        }
    }

    /**
     * The JVM options of an api or worker: ours, less inlining, a heap bound (a JVM otherwise takes up to a quarter of
     * the machine's memory, and keeps it), the AOT cache, then the user's ({@code --api-java-option},
     * {@code --worker-java-option}), last so that where an option is given twice theirs is the one the JVM keeps.
     */
    static List<String> childOptions(List<String> ours, List<String> cache, String maxHeap, List<String> users) {
        var all = new ArrayList<>(ours);
        all.addAll(SMALL_INLINING);
        all.add("-Xmx" + maxHeap);
        all.addAll(cache);
        all.addAll(users);
        return all;
    }

    private List<String> childOptions(String kind, boolean trains, String maxHeap, List<String> users) {
        return childOptions(jvmOptions, warmStart.options(kind, trains), maxHeap, users);
    }

    URI healthUri() {
        return healthUri(1);
    }

    private URI healthUri(int api) {
        return URI.create("http://localhost:" + options.apiPort(api) + "/actuator/health/readiness");
    }

    /**
     * How the apis and workers started: {@code "trains"} when one of them records an AOT cache as it stops (none
     * existed for this build), {@code "cache"} when they load one, {@code "cold"} without (turned off, or the jar
     * could not be extracted).
     */
    public String warmStart() {
        if (!training.isEmpty()) {
            return "trains";
        }
        return warmStart.options("api", false).isEmpty() ? "cold" : "cache";
    }

    /** The base URIs of the apis, such as {@code http://localhost:8080}. */
    public List<URI> apiUris() {
        var uris = new ArrayList<URI>();
        for (var n = 1; n <= options.apis(); n++) {
            uris.add(URI.create("http://localhost:" + options.apiPort(n)));
        }
        return uris;
    }

    /** The JDBC URL of the system's PostgreSQL database (the benchmark's bare path uses a schema of its own there). */
    public String jdbcUrl() {
        return jdbcUrl;
    }

    /** The user for {@link #jdbcUrl()}; null when the URL carries it. */
    public String jdbcUser() {
        return jdbcUser;
    }

    /** The password for {@link #jdbcUrl()}; null when the URL carries it. */
    public String jdbcPassword() {
        return jdbcPassword;
    }

    /** The Kafka bootstrap servers the system uses, such as {@code localhost:39092}. */
    public String kafkaBootstrap() {
        return bootstrap;
    }

    /**
     * The pid of every process by name: {@code kafka}, {@code api} (or {@code api-1}, {@code api-2}, ...),
     * {@code worker-1}, ..., and {@code postgres} (the postmaster) when they were started here.
     */
    public Map<String, Long> processes() {
        var pids = new LinkedHashMap<String, Long>();
        children().forEach(child -> pids.put(child.name(), child.pid()));
        if (postgres != null) {
            postgres.pid().ifPresent(pid -> pids.put("postgres", pid));
        }
        return pids;
    }

    /** Everything that runs in its own JVM: the broker (when started here), the api and the workers. */
    List<ChildProcess> children() {
        var children = new ArrayList<ChildProcess>();
        if (kafka != null) {
            children.add(kafka.process());
        }
        children.addAll(apis);
        children.addAll(workers);
        return children;
    }

    /** Records the pids of every process started here for a later run, none being started again meanwhile. */
    synchronized void record(Leftovers leftovers) throws IOException {
        leftovers.record(pids());
    }

    /** The pids of every process started here, in the order to stop them: PostgreSQL's server last. */
    List<Long> pids() {
        var pids = new ArrayList<>(children().reversed().stream().map(ChildProcess::pid).toList());
        if (postgres != null) {
            postgres.pid().ifPresent(pids::add);
        }
        return pids;
    }

    Path log(String name) {
        return options.logs().resolve(name + ".log");
    }

    boolean postgresEmbedded() {
        return postgres != null;
    }

    int postgresPort() {
        return postgres.port();
    }

    /** Blocks until {@link #stop()} has finished. */
    void awaitStopped() throws InterruptedException {
        stopped.await();
    }

    /** Whether {@link #stop()} has been called. */
    boolean stopping() {
        return stopping;
    }

    /**
     * Stops workers, then the api, then Kafka, then PostgreSQL; safe to call more than once. A start under way (a
     * Ctrl-C while PostgreSQL or Kafka starts, or while the api does) is ended first: the processes it launched are
     * asked to stop, so that it stops waiting for them, and what it had started by then is stopped with the rest
     * (the server it was starting outlived the launcher before).
     */
    public synchronized void stop() {
        if (stopping) {
            return;
        }
        stopping = true;
        restartTimer.shutdownNow();
        try {
            if (startBegun && startEnded.getCount() > 0) {
                launched.forEach(ChildProcess::requestStop);
                awaitStartEnded();
            }
            if (!workers.isEmpty()) {
                step("stopping workers", () -> stopAll(workers));
            }
            if (!apis.isEmpty()) {
                step("stopping api", () -> stopAll(apis));
            }
            if (kafka != null) {
                step("stopping Kafka", () -> stopAll(List.of(kafka.process())));
            }
            var unlisted = launched.stream().filter(child -> child.isAlive() && !children().contains(child)).toList();
            if (!unlisted.isEmpty()) {
                step("stopping " + String.join(", ", unlisted.stream().map(ChildProcess::name).toList()),
                        () -> stopAll(unlisted));
            }
            if (postgres != null) {
                step("stopping PostgreSQL", () -> {
                    postgres.close();
                    return null;
                });
            }
        } finally {
            stopped.countDown();
        }
    }

    private void awaitStartEnded() {
        try {
            if (!startEnded.await(START_END_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                out.println("(the start did not end within " + START_END_WAIT.toSeconds() + " s; stopping what it "
                        + "started so far)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Void stopAll(List<ChildProcess> children) {
        children.forEach(ChildProcess::requestStop);
        if (children.stream().anyMatch(training::contains)) {
            out.print("(writing the AOT cache for a warm start next time) ");
            out.flush();
        }
        var killed = children.stream()
                .filter(child -> !child.stop(training.contains(child) ? WarmStart.TRAINING_STOP_GRACE : STOP_GRACE))
                .toList();
        if (!killed.isEmpty()) {
            out.print("(killed " + killed + " after " + STOP_GRACE.toSeconds() + " s) ");
        }
        return null;
    }

    /** A step of the start: not begun once a stop has begun; one that a stop ends (its processes asked to go) is. */
    private <T> T starting(String what, Supplier<T> action) {
        if (stopping) {
            throw new StoppedException();
        }
        return step(what, action, true);
    }

    private <T> T step(String what, Supplier<T> action) {
        return step(what, action, false);
    }

    private <T> T step(String what, Supplier<T> action, boolean stoppable) {
        out.print(what + "... ");
        out.flush();
        var started = System.nanoTime();
        try {
            var result = action.get();
            out.printf("ok (%.1f s)%n", (System.nanoTime() - started) / 1e9);
            return result;
        } catch (RuntimeException e) {
            if (stoppable && stopping) {
                out.println("stopped");
                throw e instanceof StoppedException ? e : new StoppedException();
            }
            out.println("FAILED");
            throw e;
        }
    }

    private static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
