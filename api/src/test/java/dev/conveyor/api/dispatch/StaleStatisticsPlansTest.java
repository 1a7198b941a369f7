package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiTests;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;
import org.springframework.jdbc.support.SqlArrayValue;

/**
 * The dispatch writes keyed by job id keep to the primary key when the table's statistics were taken while hardly
 * any job was due: the state of every fresh system until autovacuum analyzes {@code jobs} again, in which the
 * planner takes {@code jobs_due_idx} (or another partial index on waiting jobs) for one row. Scanning that index
 * costs one visit per job on Kafka and not yet started, per statement; with two api instances writing marks, W1's
 * first run slowed to 600 jobs/s, PostgreSQL at 1.5 ms of CPU per job.
 */
class StaleStatisticsPlansTest {

    private static final long OWNER = 42;
    private static Connection connection;
    private static JdbcClient jdbc;
    private static final List<UUID> waiting = new ArrayList<>();

    @BeforeAll
    static void aTableAnalyzedWhileNothingWaited() throws Exception {
        var dataSource = ApiTests.migratedDatabase();
        connection = dataSource.getConnection();
        jdbc = JdbcClient.create(new SingleConnectionDataSource(connection, true));
        jdbc.sql("""
                INSERT INTO jobs (id, type, queue, status, payload, max_attempts, initial_max_attempts,
                                  timeout_seconds, created_at, run_at, updated_at, dispatched_at, finished_at)
                SELECT gen_random_uuid(), 'echo', 'default', 'SUCCEEDED', '{}', 1, 1, 60, now(), now(), now(), now(),
                       now()
                FROM generate_series(1, 3000)
                """).update();
        jdbc.sql("ANALYZE jobs").update();
        // then a burst: thousands of jobs published (leased) and waiting for their marks or their workers
        waiting.addAll(jdbc.sql("""
                INSERT INTO jobs (id, type, queue, status, payload, max_attempts, initial_max_attempts,
                                  timeout_seconds, created_at, run_at, updated_at, dispatch_lease_until,
                                  dispatch_owner)
                SELECT gen_random_uuid(), 'echo', 'default', 'QUEUED', '{}', 1, 1, 60, now(), now(), now(),
                       now() + interval '60 seconds', :owner
                FROM generate_series(1, 5000)
                RETURNING id
                """).param("owner", OWNER).query(UUID.class).list());
        // as the api's statements run once they are prepared: one plan for any parameters
        jdbc.sql("SET plan_cache_mode = force_generic_plan").update();
    }

    @AfterAll
    static void close() throws Exception {
        connection.close();
    }

    @Test
    void theEstimatesAreAsStaleAsOnAFreshSystem() {
        // the premise: the planner believes next to nothing waits
        var estimate = jdbc.sql("EXPLAIN SELECT id FROM jobs WHERE dispatched_at IS NULL AND status = 'QUEUED'")
                .query(String.class).list().getFirst();
        assertThat(estimate).contains("rows=1 ");
    }

    /**
     * The plan of {@code statement}: it must not read the waiting jobs through a partial index (whose estimate is the
     * stale one), nor join by comparing every row with every id (a nested loop with a join filter).
     */
    private static String bounded(JdbcClient.StatementSpec explain) {
        var plan = String.join("\n", explain.query(String.class).list());
        assertThat(plan).doesNotContain("jobs_due_idx").doesNotContain("jobs_queued_run_at_idx")
                .doesNotContain("jobs_dispatched_queued_idx").doesNotContain("Join Filter");
        return plan;
    }

    private static SqlArrayValue ids() {
        return new SqlArrayValue("uuid", waiting.subList(0, 250).toArray());
    }

    @Test
    void dispatchMarksLockByPrimaryKeyAndNeverScanTheWaitingJobs() {
        assertThat(bounded(jdbc.sql("EXPLAIN " + JdbcMarkWriter.LOCK).param("ids", ids()))).contains("jobs_pkey");
        bounded(jdbc.sql("EXPLAIN " + JdbcMarkWriter.MARK).param("ids", ids())
                .param("partitions", new SqlArrayValue("int4", IntStream.range(0, 250).mapToObj(i -> 0).toArray()))
                .param("offsets", new SqlArrayValue("int8", IntStream.range(0, 250).mapToObj(i -> (long) i)
                        .toArray())));
    }

    @Test
    void leaseReleasesGoByPrimaryKey() {
        assertThat(bounded(jdbc.sql("EXPLAIN " + LeaseReleases.OURS).param("ids", ids()).param("owner", OWNER)))
                .contains("jobs_pkey");
        assertThat(bounded(jdbc.sql("EXPLAIN " + LeaseReleases.RELEASE).param("ids", ids()))).contains("jobs_pkey");
    }

    /**
     * The poller's claim looks for a due job of each (queue, tenant) with one probe of {@code jobs_due_idx}: with
     * {@code EXISTS} the planner could (and under load on a fresh system did) hash every waiting job of the table,
     * read through {@code jobs_status_id_idx}, to learn whether one pair had any: 47 ms for 979 waiting jobs in one
     * W2 claim, and the claim runs several times a second while a burst drains.
     */
    @Test
    void theClaimProbesEachPairForADueJobAndNeverReadsAllTheWaitingJobs() {
        var plan = String.join("\n", jdbc.sql("EXPLAIN " + DuePoller.CLAIM)
                .param("leaseSeconds", 60.0).param("owner", OWNER).param("limit", 500).param("window", 1000)
                .param("roomQueues", new SqlArrayValue("text", "default"))
                .param("roomTenants", new SqlArrayValue("text", "default"))
                .param("rooms", new SqlArrayValue("int4", 0))
                .query(String.class).list());

        assertThat(plan).doesNotContain("Semi Join").doesNotContain("jobs_status_id_idx")
                .doesNotContain("Seq Scan on jobs");
    }

    /** The marks as they were written before: one update with the guard in its WHERE. */
    @Test
    void aGuardInTheUpdatesWhereScansTheWaitingJobs() {
        var explain = jdbc.sql("""
                EXPLAIN UPDATE jobs j SET dispatched_at = now(), record_partition = v.partition,
                                          record_offset = v.record_offset
                FROM unnest(:ids::uuid[], :attempts::int[], :partitions::int[], :offsets::int8[])
                    AS v(id, attempts, partition, record_offset)
                WHERE j.id = v.id AND j.attempts = v.attempts AND j.dispatched_at IS NULL AND j.status = 'QUEUED'
                """).param("ids", ids())
                .param("attempts", new SqlArrayValue("int4", IntStream.range(0, 250).mapToObj(i -> 0).toArray()))
                .param("partitions", new SqlArrayValue("int4", IntStream.range(0, 250).mapToObj(i -> 0).toArray()))
                .param("offsets", new SqlArrayValue("int8", IntStream.range(0, 250).mapToObj(i -> (long) i)
                        .toArray()));

        assertThat(String.join("\n", explain.query(String.class).list()))
                .containsAnyOf("jobs_due_idx", "jobs_queued_run_at_idx", "Join Filter");
    }
}
