package dev.conveyor.api.queues;

import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.SqlArrayValue;

/**
 * Writes jobs with the statement shapes of the job path (one multi-row {@code INSERT ... FROM unnest}, one
 * {@code UPDATE ... FROM unnest} per batch), so the counting triggers see what they see in production. Rows are
 * marked dispatched, so that the api's due poller leaves them alone.
 */
final class TestJobs {

    static final String INSERT = """
            INSERT INTO jobs (id, type, queue, status, payload, max_attempts, initial_max_attempts, timeout_seconds,
                              idempotency_key, created_at, run_at, updated_at, dispatched_at)
            SELECT id, 'echo', queue, status, '{"n": 1}', 3, 3, 300, idempotency_key, now(), run_at, now(), now()
            FROM unnest(:ids::uuid[], :queues::text[], :statuses::text[], :runAt::timestamptz[], :keys::text[])
                 AS v(id, queue, status, run_at, idempotency_key)
            ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            """;

    static final String SET_STATUS = """
            UPDATE jobs j SET status = v.status, updated_at = now()
            FROM unnest(:ids::uuid[], :statuses::text[]) AS v(id, status)
            WHERE j.id = v.id
            """;

    /** Where the counters and {@code count(*) ... GROUP BY queue, status} disagree, in one snapshot. */
    static final String MISMATCHES = """
            SELECT queue, status, c.n AS counted, a.n AS actual
            FROM (SELECT queue, status, sum(n)::bigint AS n FROM queue_counts GROUP BY queue, status
                  HAVING sum(n) <> 0) c
            FULL JOIN (SELECT queue, status, count(*) AS n FROM jobs GROUP BY queue, status) a USING (queue, status)
            WHERE c.n IS DISTINCT FROM a.n
            ORDER BY queue, status
            """;

    private TestJobs() {
    }

    /** A job to insert; a null key means none. */
    record Row(UUID id, String queue, String status, Instant runAt, String idempotencyKey) {

        static Row of(String queue, String status) {
            return new Row(UUID.randomUUID(), queue, status, Instant.now(), null);
        }
    }

    /** A (queue, status) whose counter says {@code counted} while the jobs table has {@code actual}. */
    record Mismatch(String queue, String status, Long counted, Long actual) {
    }

    /** Inserts the rows with one statement; answers how many were new (a used key inserts nothing). */
    static int insert(JdbcClient jdbc, List<Row> rows) {
        return jdbc.sql(INSERT)
                .param("ids", array("uuid", rows, Row::id))
                .param("queues", array("text", rows, Row::queue))
                .param("statuses", array("text", rows, Row::status))
                .param("runAt", array("text", rows, r -> r.runAt().toString()))
                .param("keys", array("text", rows, Row::idempotencyKey))
                .update();
    }

    /** Sets each job's status with one statement. */
    static int setStatus(JdbcClient jdbc, List<UUID> ids, List<String> statuses) {
        return jdbc.sql(SET_STATUS)
                .param("ids", new SqlArrayValue("uuid", ids.toArray()))
                .param("statuses", new SqlArrayValue("text", statuses.toArray()))
                .update();
    }

    static List<Mismatch> mismatches(JdbcClient jdbc) {
        return jdbc.sql(MISMATCHES).query(Mismatch.class).list();
    }

    private static <T> SqlArrayValue array(String type, List<Row> rows, Function<Row, T> field) {
        return new SqlArrayValue(type, rows.stream().map(field).toArray());
    }
}
