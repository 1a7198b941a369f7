package dev.conveyor.api.queues;

import dev.conveyor.api.queues.HotPathBenchmark.Setup;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.flywaydb.core.Flyway;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

/**
 * Prints what {@code GET /v1/queues} costs with a million jobs, next to counting them, and what keeping the
 * counters costs the job path. Not a test: run it with
 * {@code ./mvnw -B -o -pl api -am test-compile -Pqueues-benchmark}.
 */
final class QueuesBenchmark {

    static final int QUEUES = 10;
    private static final int JOBS = 1_000_000;
    private static final int LOAD_BATCH = 100_000;
    private static final int READ_CALLS = 50;

    /** Roughly a busy system's mix: most jobs finished, a backlog of 5% waiting. */
    private static final String LOAD = """
            INSERT INTO jobs (id, type, queue, status, payload, max_attempts, initial_max_attempts, timeout_seconds,
                              created_at, run_at, updated_at, dispatched_at)
            SELECT uuidv7(), 'echo', 'q' || (i % :queues),
                   CASE WHEN r < 0.85 THEN 'SUCCEEDED' WHEN r < 0.88 THEN 'FAILED' WHEN r < 0.89 THEN 'CANCELLED'
                        WHEN r < 0.92 THEN 'SCHEDULED' WHEN r < 0.97 THEN 'QUEUED' ELSE 'RUNNING' END,
                   '{"ms": 100}', 3, 3, 300, now(), now() - random() * interval '1 hour', now(), now()
            FROM (SELECT i, random() AS r FROM generate_series(:from, :to) i) s
            """;

    /** What the endpoint would run without counters: count everything, every call. */
    static final String NAIVE = """
            SELECT queue,
                   count(*) FILTER (WHERE status = 'SCHEDULED') AS scheduled,
                   count(*) FILTER (WHERE status = 'QUEUED')    AS queued,
                   count(*) FILTER (WHERE status = 'RUNNING')   AS running,
                   count(*) FILTER (WHERE status = 'SUCCEEDED') AS succeeded,
                   count(*) FILTER (WHERE status = 'FAILED')    AS failed,
                   count(*) FILTER (WHERE status = 'CANCELLED') AS cancelled,
                   coalesce(round(greatest(extract(epoch FROM now() - min(run_at) FILTER (WHERE status = 'QUEUED')),
                                           0), 3), 0) AS oldest_queued_seconds
            FROM jobs
            GROUP BY queue
            ORDER BY queue COLLATE "C"
            """;

    private static final String RECOUNT = """
            INSERT INTO queue_counts (queue, status, slot, n)
            SELECT queue, status, 0, count(*) FROM jobs GROUP BY queue, status
            """;

    private QueuesBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        // A server of its own rather than TestPostgres's, with durable commits (the builder's defaults are fsync
        // and synchronous_commit off): a commit that waits for the disk is what the job path pays in production,
        // and how long a counter row stays locked.
        try (var server = EmbeddedPostgres.builder().setServerConfig("fsync", "on")
                .setServerConfig("synchronous_commit", "on").start()) {
            var dataSource = new PGSimpleDataSource();
            dataSource.setUrl(server.getJdbcUrl("postgres", "postgres"));
            dataSource.setUser("postgres");
            Flyway.configure().dataSource(dataSource).load().migrate();
            // one connection for everything but the writers, as a pool would hand out: a new connection per call
            // would cost more than the query
            try (var connection = dataSource.getConnection()) {
                run(dataSource, JdbcClient.create(new SingleConnectionDataSource(connection, true)));
            }
        }
    }

    private static void run(PGSimpleDataSource dataSource, JdbcClient jdbc) throws Exception {
        var version = jdbc.sql("SHOW server_version").query(String.class).single();
        var durability = jdbc.sql("SELECT 'fsync ' || current_setting('fsync') || ', synchronous_commit '"
                + " || current_setting('synchronous_commit')").query(String.class).single();
        System.out.printf("%nPostgreSQL %s (embedded, %s), %d CPUs, Java %s%n", version, durability,
                Runtime.getRuntime().availableProcessors(), Runtime.version());

        var start = System.nanoTime();
        for (var from = 1; from <= JOBS; from += LOAD_BATCH) {
            jdbc.sql(LOAD).param("queues", QUEUES).param("from", from).param("to", from + LOAD_BATCH - 1).update();
        }
        jdbc.sql("VACUUM ANALYZE jobs").update();
        System.out.printf("Loaded %,d jobs in %d queues (triggers on) in %.1f s%n", JOBS, QUEUES,
                (System.nanoTime() - start) / 1e9);

        reads(jdbc, "GET /v1/queues query, " + JOBS / 1000 + "k jobs");
        explain(jdbc, QueueCounts.QUEUES);
        explain(jdbc, NAIVE);

        // autovacuum would fall on whichever setup happens to be writing then; the setups take turns without it
        jdbc.sql("ALTER TABLE jobs SET (autovacuum_enabled = false)").update();
        jdbc.sql("ALTER TABLE queue_counts SET (autovacuum_enabled = false)").update();
        var hotPath = new HotPathBenchmark(jdbc, dataSource);
        var one = hotPath.oneWriter(List.of(Setup.V1, Setup.INDEX_ONLY, Setup.V2), 12, 10);
        printOneWriter(one);
        var many = hotPath.concurrentWriters(List.of(Setup.INDEX_ONLY, Setup.ONE_SLOT, Setup.V2), 4, 10, 6);
        printConcurrent(many, 4);

        // the writes with triggers disabled were not counted: count afresh, as V2's backfill does
        jdbc.sql("TRUNCATE queue_counts").update();
        jdbc.sql(RECOUNT).update();
        jdbc.sql("ALTER TABLE jobs RESET (autovacuum_enabled)").update();
        jdbc.sql("ALTER TABLE queue_counts RESET (autovacuum_enabled)").update();
        jdbc.sql("VACUUM ANALYZE jobs").update();
        var rows = jdbc.sql("SELECT count(*) FROM jobs").query(Long.class).single();
        reads(jdbc, "Again after the writes, " + rows / 1000 + "k jobs");
    }

    private static void reads(JdbcClient jdbc, String title) {
        var counters = new Timings();
        var naive = new Timings();
        for (var i = 0; i < 5; i++) {
            jdbc.sql(QueueCounts.QUEUES).query().listOfRows();
            jdbc.sql(NAIVE).query().listOfRows();
        }
        for (var i = 0; i < READ_CALLS; i++) {
            var start = System.nanoTime();
            jdbc.sql(QueueCounts.QUEUES).query().listOfRows();
            counters.add(System.nanoTime() - start);
            start = System.nanoTime();
            jdbc.sql(NAIVE).query().listOfRows();
            naive.add(System.nanoTime() - start);
        }
        var agree = counts(jdbc, QueueCounts.QUEUES).equals(counts(jdbc, NAIVE));
        System.out.printf("%n%-46s %10s %10s%n", title + " (" + READ_CALLS + " calls each)", "median", "p95");
        System.out.printf("  %-44s %7.2f ms %7.2f ms%n", "(a) counters + QUEUED index (V2)",
                counters.medianMillis(), counters.p95Millis());
        System.out.printf("  %-44s %7.2f ms %7.2f ms%n", "(b) GROUP BY queue, status over jobs",
                naive.medianMillis(), naive.p95Millis());
        System.out.printf("  same counts from both: %s%n", agree ? "yes" : "NO");
    }

    private static void explain(JdbcClient jdbc, String sql) {
        System.out.println();
        jdbc.sql("EXPLAIN (ANALYZE, BUFFERS) " + sql).query(String.class).list()
                .forEach(line -> System.out.println("    " + line));
    }

    /** The rows without the age (which moves between two calls), numbers as longs. */
    private static List<Map<String, Object>> counts(JdbcClient jdbc, String sql) {
        return jdbc.sql(sql).query().listOfRows().stream().map(row -> {
            var copy = new LinkedHashMap<String, Object>();
            row.forEach((column, value) -> copy.put(column, value instanceof Number n ? n.longValue() : value));
            copy.remove("oldest_queued_seconds");
            return (Map<String, Object>) copy;
        }).toList();
    }

    private static void printOneWriter(Map<Setup, HotPathBenchmark.Result> results) {
        var first = results.values().iterator().next();
        System.out.printf("%nJob path, one writer, %d-row statements (median of %d batches)%n",
                HotPathBenchmark.BATCH, first.inserts().count());
        System.out.printf("  %-44s %14s %14s%n", "", "INSERT rows/s", "UPDATE rows/s");
        results.forEach((setup, result) -> System.out.printf("  %-44s %,14.0f %,14.0f%n", setup.label,
                result.inserts().rowsPerSecond(HotPathBenchmark.BATCH),
                result.updates().rowsPerSecond(HotPathBenchmark.BATCH)));
    }

    private static void printConcurrent(Map<Setup, Timings> results, int writers) {
        var first = results.values().iterator().next();
        System.out.printf("%nJob path, %d writers at once on the same queues, insert + 2 updates per job "
                + "(median of %d rounds)%n", writers, first.count());
        System.out.printf("  %-44s %14s%n", "", "jobs/s");
        // Timings hold nanoseconds per job here
        results.forEach((setup, timings) -> System.out.printf("  %-44s %,14.0f%n", setup.label,
                1e3 / timings.medianMillis()));
    }
}
