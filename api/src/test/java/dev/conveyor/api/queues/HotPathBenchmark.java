package dev.conveyor.api.queues;

import dev.conveyor.api.job.UuidV7;
import dev.conveyor.api.queues.TestJobs.Row;
import java.sql.Connection;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

/**
 * What the counting triggers (and the QUEUED index) cost the job path: 500-row INSERTs and 500-row status
 * UPDATEs, as the api batches them, with and without. Setups take turns round by round, on the same table, so
 * that its growth and the machine's moods fall on all of them alike.
 */
final class HotPathBenchmark {

    static final int BATCH = 500;
    private static final String INDEX = "jobs_queued_run_at_idx";
    private static final List<String> COUNTING_FUNCTIONS =
            List.of("queue_counts_add_inserted", "queue_counts_move_updated", "queue_counts_subtract_deleted");

    /** A way the jobs table can be set up for writing. */
    enum Setup {
        V1("V1 only: no triggers, no index"),
        INDEX_ONLY("V2 index, triggers disabled"),
        ONE_SLOT("V2, one counter row per (queue, status)"),
        V2("V2: triggers (16 slots) + index");

        final String label;

        Setup(String label) {
            this.label = label;
        }
    }

    /** Per-batch timings of one setup. */
    record Result(Timings inserts, Timings updates) {
    }

    private final JdbcClient admin;
    private final DataSource dataSource;
    private final UuidV7 ids = new UuidV7(Clock.systemUTC());
    private final Map<String, String> functionDefinitions = new LinkedHashMap<>();

    HotPathBenchmark(JdbcClient admin, DataSource dataSource) {
        this.admin = admin;
        this.dataSource = dataSource;
        for (var function : COUNTING_FUNCTIONS) {
            functionDefinitions.put(function, admin.sql("SELECT pg_get_functiondef(:f::regproc)")
                    .param("f", function).query(String.class).single());
        }
    }

    /**
     * One writer: per-batch timings of each setup over {@code rounds} turns of {@code batches} batches, after a
     * turn that warms up (JIT, caches) and is not counted.
     */
    Map<Setup, Result> oneWriter(List<Setup> setups, int rounds, int batches) throws Exception {
        var results = new LinkedHashMap<Setup, Result>();
        setups.forEach(s -> results.put(s, new Result(new Timings(), new Timings())));
        try (var connection = dataSource.getConnection()) {
            var jdbc = client(connection);
            for (var round = -1; round < rounds; round++) {
                for (var setup : rotated(setups, round)) {
                    use(setup);
                    var result = round < 0 ? new Result(new Timings(), new Timings()) : results.get(setup);
                    for (var b = 0; b < batches; b++) {
                        writeJobs(jdbc, result.inserts(), result.updates());
                    }
                }
            }
        }
        use(Setup.V2);
        return results;
    }

    /** {@code writers} connections at once: time per job (one insert and two updates) of each round but a first. */
    Map<Setup, Timings> concurrentWriters(List<Setup> setups, int writers, int rounds, int batches)
            throws Exception {
        var results = new LinkedHashMap<Setup, Timings>();
        setups.forEach(s -> results.put(s, new Timings()));
        var connections = new ArrayList<Connection>();
        try (var threads = Executors.newFixedThreadPool(writers)) {
            for (var w = 0; w < writers; w++) {
                connections.add(dataSource.getConnection());
            }
            for (var round = -1; round < rounds; round++) {
                for (var setup : rotated(setups, round)) {
                    use(setup);
                    var tasks = new ArrayList<Callable<Void>>();
                    for (var connection : connections) {
                        var jdbc = client(connection);
                        tasks.add(() -> {
                            for (var b = 0; b < batches; b++) {
                                writeJobs(jdbc, new Timings(), new Timings());
                            }
                            return null;
                        });
                    }
                    var start = System.nanoTime();
                    for (var done : threads.invokeAll(tasks)) {
                        done.get();
                    }
                    if (round >= 0) {
                        // nanoseconds per job, so that the median round is the one with the median throughput
                        results.get(setup).add((System.nanoTime() - start) / ((long) writers * batches * BATCH));
                    }
                }
            }
        } finally {
            for (var connection : connections) {
                connection.close();
            }
        }
        use(Setup.V2);
        return results;
    }

    /** One batch of the job path: insert 500 QUEUED jobs, start them, finish them (one statement each). */
    private void writeJobs(JdbcClient jdbc, Timings inserts, Timings updates) {
        var rows = new ArrayList<Row>(BATCH);
        var now = Instant.now();
        for (var i = 0; i < BATCH; i++) {
            rows.add(new Row(ids.get(), "q" + (i % QueuesBenchmark.QUEUES), "QUEUED", now, null));
        }
        var batchIds = rows.stream().map(Row::id).toList();
        var start = System.nanoTime();
        TestJobs.insert(jdbc, rows);
        inserts.add(System.nanoTime() - start);
        for (var status : List.of("RUNNING", "SUCCEEDED")) {
            start = System.nanoTime();
            TestJobs.setStatus(jdbc, batchIds, Collections.nCopies(BATCH, status));
            updates.add(System.nanoTime() - start);
        }
    }

    private void use(Setup setup) {
        admin.sql("ALTER TABLE jobs " + (setup == Setup.V1 || setup == Setup.INDEX_ONLY ? "DISABLE" : "ENABLE")
                + " TRIGGER USER").update();
        admin.sql(setup == Setup.V1 ? "DROP INDEX IF EXISTS " + INDEX
                : "CREATE INDEX IF NOT EXISTS " + INDEX + " ON jobs (queue, run_at) WHERE status = 'QUEUED'")
                .update();
        functionDefinitions.values().forEach(definition -> admin.sql(setup == Setup.ONE_SLOT
                ? oneSlot(definition) : definition).update());
    }

    private static String oneSlot(String definition) {
        var slot = "pg_backend_pid() % 16";
        if (!definition.contains(slot)) {
            throw new IllegalStateException("The counting functions no longer pick a slot with " + slot);
        }
        return definition.replace(slot, "0");
    }

    private static List<Setup> rotated(List<Setup> setups, int round) {
        var order = new ArrayList<>(setups);
        Collections.rotate(order, Math.max(round, 0));
        return order;
    }

    private static JdbcClient client(Connection connection) {
        return JdbcClient.create(new SingleConnectionDataSource(connection, true));
    }
}
