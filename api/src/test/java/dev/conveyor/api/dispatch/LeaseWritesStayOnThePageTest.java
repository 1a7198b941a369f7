package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiTests;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;
import org.springframework.jdbc.support.SqlArrayValue;

/**
 * The poller's claim of a waiting job writes only its lease, which no index holds; with the room V10 leaves on each
 * page of {@code jobs}, PostgreSQL makes nearly every such write a HOT update (same page, no index entry), where full pages
 * made each one a new row version on another page plus an entry in every index. Counted with PostgreSQL's own
 * statistics of the claim's transaction.
 */
class LeaseWritesStayOnThePageTest {

    private static final int JOBS = 400;

    @Test
    void theMigratedTableLeavesHalfOfEachPageFree() throws Exception {
        try (var connection = ApiTests.migratedDatabase().getConnection()) {
            var jdbc = JdbcClient.create(new SingleConnectionDataSource(connection, true));
            var options = jdbc.sql("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'jobs'")
                    .query(String.class).single();
            assertThat(options).contains("fillfactor=50");
        }
    }

    @Test
    void nearlyEveryLeaseTheClaimWritesIsAHotUpdate() throws Exception {
        // a page filled to half by inserts is full once each of its rows has a second version: the last may not fit
        assertThat(hotUpdatesOfOneClaim(false)).isGreaterThanOrEqualTo(JOBS * 9 / 10);
    }

    /** What the migration changed: the same claim on pages a batch insert filled. */
    @Test
    void onFullPagesHardlyAnyIs() throws Exception {
        assertThat(hotUpdatesOfOneClaim(true)).isLessThan(JOBS / 10);
    }

    /** In a database of its own: a committed burst of waiting jobs, then one claim of them all, in a transaction. */
    private static long hotUpdatesOfOneClaim(boolean fullPages) throws Exception {
        try (var connection = ApiTests.migratedDatabase().getConnection()) {
            var jdbc = JdbcClient.create(new SingleConnectionDataSource(connection, true));
            if (fullPages) {
                jdbc.sql("ALTER TABLE jobs RESET (fillfactor)").update();
            }
            // as a burst beyond the tenant's window is stored: one statement, no lease
            jdbc.sql("""
                    INSERT INTO jobs (id, type, queue, status, payload, max_attempts, initial_max_attempts,
                                      timeout_seconds, created_at, run_at, updated_at)
                    SELECT gen_random_uuid(), 'echo', 'default', 'QUEUED', jsonb_build_object('n', n), 3, 3, 60,
                           now(), now() - interval '1 second', now()
                    FROM generate_series(1, :jobs) AS n
                    """).param("jobs", JOBS).update();
            connection.setAutoCommit(false);
            var claimed = jdbc.sql(DuePoller.CLAIM)
                    .param("leaseSeconds", 60.0)
                    .param("owner", 7L)
                    .param("limit", JOBS)
                    .param("window", JOBS)
                    .param("roomQueues", new SqlArrayValue("text"))
                    .param("roomTenants", new SqlArrayValue("text"))
                    .param("rooms", new SqlArrayValue("int4"))
                    .query((rs, row) -> rs.getObject("id")).list();
            assertThat(claimed).hasSize(JOBS);
            var hot = jdbc.sql("SELECT pg_stat_get_xact_tuples_hot_updated('jobs'::regclass)").query(Long.class)
                    .single();
            connection.commit();
            return hot;
        }
    }
}
