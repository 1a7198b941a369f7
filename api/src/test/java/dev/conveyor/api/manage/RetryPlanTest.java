package dev.conveyor.api.manage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiTests;
import java.sql.Connection;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

/**
 * A retry finds its job by primary key even when the statistics were taken before many jobs had ended (a fresh
 * system after its first burst of failures), when the planner believes {@code jobs_ended_idx} holds one row.
 */
class RetryPlanTest {

    private static Connection connection;
    private static JdbcClient jdbc;
    private static UUID failed;

    @BeforeAll
    static void aTableAnalyzedBeforeJobsEnded() throws Exception {
        var dataSource = ApiTests.migratedDatabase();
        connection = dataSource.getConnection();
        jdbc = JdbcClient.create(new SingleConnectionDataSource(connection, true));
        insert("QUEUED", 3000);
        jdbc.sql("ANALYZE jobs").update();
        insert("FAILED", 5000);
        failed = jdbc.sql("SELECT id FROM jobs WHERE status = 'FAILED' LIMIT 1").query(UUID.class).single();
        jdbc.sql("SET plan_cache_mode = force_generic_plan").update();
    }

    private static void insert(String status, int jobs) {
        jdbc.sql("""
                INSERT INTO jobs (id, type, queue, status, payload, max_attempts, initial_max_attempts,
                                  timeout_seconds, created_at, run_at, updated_at, finished_at)
                SELECT gen_random_uuid(), 'echo', 'default', :status, '{}', 1, 1, 60, now(), now(), now(),
                       CASE WHEN :status = 'FAILED' THEN now() END
                FROM generate_series(1, :jobs)
                """).param("status", status).param("jobs", jobs).update();
    }

    @AfterAll
    static void close() throws Exception {
        connection.close();
    }

    private static String plan(String statement) {
        return String.join("\n", jdbc.sql("EXPLAIN " + statement).param("id", failed)
                .param("tenant", null, java.sql.Types.VARCHAR).param("leaseSeconds", 60.0).param("owner", 1L)
                .query(String.class).list());
    }

    @Test
    void findsItsJobByPrimaryKey() {
        assertThat(plan(JobCommands.RETRY)).contains("jobs_pkey").doesNotContain("jobs_ended_idx");
    }

    @Test
    void theGuardAsWrittenBeforeScannedTheEndedJobs() {
        var before = JobCommands.RETRY.replace("(status IN ('FAILED', 'CANCELLED')) IS TRUE",
                "status IN ('FAILED', 'CANCELLED')");
        assertThat(before).isNotEqualTo(JobCommands.RETRY);
        assertThat(plan(before)).contains("jobs_ended_idx");
    }
}
