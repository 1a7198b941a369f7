package dev.conveyor.local.bench;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs the workloads that measure what the machine allows, on the system's own PostgreSQL and Kafka broker: the
 * {@link BarePath} in W1's, W2's and W3's shapes (W1's single POSTs and W3's behind HTTP, {@link FloorFront}), and
 * {@link PgAlone}. Each run starts from an empty table and checks that every job ended; latency counts, as in
 * Conveyor's workloads, from the submit to the end being committed.
 */
final class FloorRuns implements AutoCloseable {

    /** With no job ending for this long, a run has stalled and fails (as {@code Burst}'s). */
    static final Duration STALL = Duration.ofSeconds(60);
    /** Jobs sent through the bare path once it is up, before anything is measured, so that every client has joined. */
    private static final int SETTLE_JOBS = 100;

    private final FloorTarget target;
    private final List<Role> roles;
    private final BenchOptions options;
    private final DelayServer server;
    private final HikariDataSource dataSource;
    private final FloorStore store;
    private final Client client = new Client();
    private BarePath path;
    private FloorFront front;

    /**
     * @param roles  what to measure: the broker, PostgreSQL and the benchmark's own process ({@code bench})
     * @param server what W2's jobs GET, as Conveyor's
     */
    FloorRuns(FloorTarget target, List<Role> roles, BenchOptions options, DelayServer server) {
        this.target = target;
        this.roles = List.copyOf(roles);
        this.options = options;
        this.server = server;
        this.dataSource = target.dataSource("bench-floor");
        this.store = new FloorStore(dataSource);
    }

    /** Sends {@code jobs} jobs through the workload's path, measuring nothing. */
    void warmUp(Workload workload, int jobs) {
        if (jobs > 0) {
            run(workload, jobs);
        }
    }

    /** One measured run at the workload's configured size (W1's jobs, or W3's rate times its seconds). */
    RunResult measure(Workload workload) {
        var jobs = switch (workload) {
            case FLOOR_W1, FLOOR_W1_SINGLE, PG_BATCHES -> options.w1Jobs();
            case FLOOR_W2 -> options.w2Jobs();
            case FLOOR_W3, FLOOR_W3_HTTP, PG_SINGLE -> options.w3Rate() * options.w3Seconds();
            default -> throw new IllegalArgumentException(workload.title() + " is Conveyor's, not the floor's");
        };
        var result = run(workload, jobs);
        return result.withNote(String.format("bench JVM (%s): %s ms/job",
                workload.bare() ? "the floor's api, worker and load" : "the load",
                Stats.number(result.cpuMsPerJob("bench"))) + (result.note().isEmpty() ? "" : "; " + result.note()));
    }

    private RunResult run(Workload workload, int jobs) {
        try {
            return switch (workload) {
                case FLOOR_W1 -> burst(path(), new FloorRun(jobs));
                case FLOOR_W2 -> {
                    server.reset();
                    var result = burst(path(), new FloorRun(jobs, server.uri().resolve("floor")));
                    yield result.withNote(server.note());
                }
                case FLOOR_W1_SINGLE -> singlyOverHttp(path(), jobs, options.clients());
                case FLOOR_W3 -> paced(path(), jobs, options.w3Rate());
                case FLOOR_W3_HTTP -> pacedOverHttp(path(), jobs, options.w3Rate());
                case PG_BATCHES -> new PgAlone(store, dataSource, withoutBroker()).batches(jobs, options.batchSize());
                case PG_SINGLE -> new PgAlone(store, dataSource, withoutBroker()).singles(jobs);
                default -> throw new IllegalArgumentException(workload.title() + " is Conveyor's, not the floor's");
            };
        } catch (SQLException e) {
            throw FloorStore.failed("bare path", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** The bare path, started on first use and settled with a few jobs, then kept for every later run. */
    private BarePath path() throws SQLException, InterruptedException {
        if (path == null) {
            path = new BarePath(target, store, dataSource);
            burst(path, new FloorRun(SETTLE_JOBS));
        }
        return path;
    }

    private List<Role> withoutBroker() {
        return roles.stream().filter(role -> !role.name().equals("broker")).toList();
    }

    /**
     * W1's and W2's shape: the jobs inserted in batches (one statement and transaction each), one after another; in
     * W2's each job GETs the run's {@link FloorRun#call()} before its result is sent.
     */
    private RunResult burst(BarePath path, FloorRun run) throws SQLException, InterruptedException {
        store.reset();
        var jobs = run.jobs();
        path.begin(run);
        var batch = options.batchSize();
        var meter = new Meter(roles);
        try {
            var first = System.nanoTime();
            try (var connection = dataSource.getConnection()) {
                for (var from = 0; from < jobs; from += batch) {
                    var size = Math.min(batch, jobs - from);
                    var ids = new UUID[size];
                    var payloads = new String[size];
                    var at = System.nanoTime();
                    for (var i = 0; i < size; i++) {
                        ids[i] = run.id(from + i);
                        payloads[i] = FloorRun.payload(from + i);
                        run.submitted(from + i, at);
                    }
                    store.insert(connection, ids, payloads);
                    for (var i = 0; i < size; i++) {
                        path.publish(run, from + i);
                    }
                }
            }
            run.awaitAll(STALL);
            return result(run, first, meter.stop());
        } finally {
            meter.close();
        }
    }

    /**
     * W3's shape: one job every {@code 1/rate} seconds by the clock (open loop), each inserted in a transaction of its
     * own and then published; latency counts from the planned submit. Its end is seen in this JVM as its
     * {@code UPDATE} commits, which is cheaper and sooner than Conveyor's long-poll {@code GET}: one more reason this
     * is a floor.
     */
    private RunResult paced(BarePath path, int jobs, int rate) throws InterruptedException {
        store.reset();
        var run = new FloorRun(jobs);
        path.begin(run);
        var meter = new Meter(roles);
        try {
            var start = OpenLoop.run(jobs, rate, (job, planned) -> {
                run.submitted(job, planned);
                return () -> {
                    try (var connection = dataSource.getConnection()) {
                        store.insert(connection, run.id(job), FloorRun.payload(job));
                    } catch (SQLException | RuntimeException e) {
                        run.fail(e);
                        return;
                    }
                    path.publish(run, job);
                };
            });
            run.awaitAll(STALL);
            return result(run, start, meter.stop());
        } finally {
            meter.close();
        }
    }

    /**
     * W1's single POSTs behind HTTP ({@link FloorFront}): {@code clients} clients on keep-alive connections, each
     * sending one {@code POST /v1/jobs} after another, unpaced, as in Conveyor's {@code w1-single}; latency counts from
     * a job's request being sent to its end being committed. The server stores each job in a transaction of its own.
     */
    private RunResult singlyOverHttp(BarePath path, int jobs, int clients) throws InterruptedException {
        var api = front(path).uri();
        store.reset();
        var run = new FloorRun(jobs);
        path.begin(run);
        front.begin(run);
        var meter = new Meter(roles);
        try {
            var first = System.nanoTime();
            var next = new AtomicInteger();
            try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
                for (var c = 0; c < clients; c++) {
                    threads.execute(() -> {
                        int job;
                        while ((job = next.getAndIncrement()) < jobs) {
                            run.submitted(job, System.nanoTime());
                            try {
                                client.submit(api, Runs.echo(job));
                            } catch (RuntimeException e) {
                                run.fail(e);
                                return;
                            }
                        }
                    });
                }
            }
            run.awaitAll(STALL);
            return result(run, first, meter.stop());
        } finally {
            meter.close();
        }
    }

    private FloorFront front(BarePath path) {
        if (front == null) {
            front = new FloorFront(path, store, dataSource);
        }
        return front;
    }

    /**
     * W3's shape behind HTTP ({@link FloorFront}): the benchmark's client sends W3's requests, one {@code POST /v1/jobs}
     * every {@code 1/rate} seconds by the clock, each followed by a long-poll {@code GET /v1/jobs/{id}?wait=30};
     * latency counts, as in W3, from the planned submit to the long-poll's answer.
     */
    private RunResult pacedOverHttp(BarePath path, int jobs, int rate) {
        var api = front(path).uri();
        store.reset();
        var run = FloorRun.awaited(jobs);
        path.begin(run);
        front.begin(run);
        var meter = new Meter(roles);
        try {
            var outcome = PacedSubmits.run(client, n -> api, Runs::echo, jobs, rate);
            var usage = meter.stop();
            outcome.checked("bare path over HTTP: ");
            checkEnded(run);
            return new RunResult(jobs, outcome.seconds(), Stats.Latencies.of(outcome.readable()), usage,
                    outcome.split());
        } finally {
            meter.close();
        }
    }

    private RunResult result(FloorRun run, long first, Map<String, Meter.Usage> usage) {
        checkEnded(run);
        return new RunResult(run.jobs(), (run.lastEnd() - first) / 1e9, Stats.Latencies.of(run.latencies()), usage, "");
    }

    private void checkEnded(FloorRun run) {
        var ended = store.countEnded();
        if (ended != run.jobs()) {
            throw new IllegalStateException("bare path: " + ended + " of " + run.jobs() + " jobs are marked ended in "
                    + FloorStore.SCHEMA + ".jobs");
        }
    }

    @Override
    public void close() {
        client.close();
        if (front != null) {
            front.close();
        }
        if (path != null) {
            path.close();
        }
        dataSource.close();
    }
}
