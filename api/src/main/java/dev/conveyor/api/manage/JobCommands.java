package dev.conveyor.api.manage;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.dispatch.ApiInstance;
import dev.conveyor.api.job.Job;
import dev.conveyor.api.job.JobRepository;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** The guarded state changes an operator asks for: cancel and retry. Each is one statement. */
@Repository
class JobCommands {

    /**
     * A job not running yet is cancelled at once; a running one keeps its status until its worker reports, but is
     * marked so that it gets no further attempt.
     */
    private static final String CANCEL = """
            UPDATE jobs SET
                status = CASE WHEN status = 'RUNNING' THEN status ELSE 'CANCELLED' END,
                finished_at = CASE WHEN status = 'RUNNING' THEN finished_at ELSE now() END,
                cancel_requested_at = now(),
                updated_at = now()
            WHERE id = :id AND status IN ('SCHEDULED', 'QUEUED', 'RUNNING')
              AND (:tenant::text IS NULL OR tenant = :tenant::text)
            RETURNING generation, tenant AS job_tenant,\s""" + JobRepository.COLUMNS_SQL;

    /**
     * Back to QUEUED with a fresh budget (every attempt so far counts as charged against the raised maxAttempts, and
     * the lost attempts and hand-backs start again from none); the lease leaves the publish to the caller's fast path.
     *
     * <p>The status guard is wrapped in {@code IS TRUE} so that the planner cannot match it to {@code jobs_ended_idx}
     * (its predicate, ended jobs, is implied by {@code status IN ('FAILED', 'CANCELLED')}): with statistics taken
     * before many jobs had ended, it took that index for one row and scanned every ended job to find this one.
     */
    static final String RETRY = """
            UPDATE jobs SET
                status = 'QUEUED',
                max_attempts = attempts + initial_max_attempts,
                uncharged_attempts = 0,
                lost_attempts = 0,
                hand_backs = 0,
                generation = generation + 1,
                cancel_requested_at = NULL,
                result = NULL,
                progress = NULL,
                finished_at = NULL,
                run_at = now(),
                dispatched_at = NULL,
                dispatch_lease_until = now() + make_interval(secs => :leaseSeconds),
                dispatch_owner = :owner,
                updated_at = now()
            WHERE id = :id AND (status IN ('FAILED', 'CANCELLED')) IS TRUE
              AND (:tenant::text IS NULL OR tenant = :tenant::text)
            RETURNING generation, tenant AS job_tenant,\s""" + JobRepository.COLUMNS_SQL;

    /**
     * The job's tenant and status, locked (by its primary key) until the transaction ends; only a job the caller's
     * tenant may change: another tenant's row is neither locked nor waited for (a wait would say that it exists).
     */
    private static final String LOCK = """
            SELECT tenant, status FROM jobs WHERE id = :id AND (:tenant::text IS NULL OR tenant = :tenant::text)
            FOR UPDATE""";

    private final JdbcClient jdbc;
    private final ApiProperties properties;
    private final ApiInstance instance;

    JobCommands(JdbcClient jdbc, ApiProperties properties, ApiInstance instance) {
        this.jdbc = jdbc;
        this.properties = properties;
        this.instance = instance;
    }

    /** The job after the change, with its generation and tenant; empty when it was not in a state that allows it. */
    record Changed(Job job, int generation, String tenant) {
    }

    /** {@code tenant}: the only tenant whose job may change, or null for any (an admin). */
    Optional<Changed> cancel(UUID id, String tenant) {
        return jdbc.sql(CANCEL).param("id", id).param("tenant", tenant, java.sql.Types.VARCHAR)
                .query(JobCommands::changed).optional();
    }

    /**
     * The tenant of the job if {@code tenant} (null: any) may retry it now, being FAILED or CANCELLED; locked until
     * the caller's transaction ends, so that {@link #retry} then changes it. Empty when {@link #retry} would not.
     */
    Optional<String> lockRetryable(UUID id, String tenant) {
        return jdbc.sql(LOCK).param("id", id).param("tenant", tenant, java.sql.Types.VARCHAR)
                .query((rs, row) -> new String[] {rs.getString("tenant"), rs.getString("status")}).optional()
                .filter(job -> job[1].equals("FAILED") || job[1].equals("CANCELLED"))
                .map(job -> job[0]);
    }

    Optional<Changed> retry(UUID id, String tenant) {
        return jdbc.sql(RETRY).param("id", id).param("tenant", tenant, java.sql.Types.VARCHAR)
                .param("leaseSeconds", properties.dispatch().lease().toMillis() / 1000.0)
                .param("owner", instance.id())
                .query(JobCommands::changed).optional();
    }

    private static Changed changed(java.sql.ResultSet rs, int row) throws java.sql.SQLException {
        return new Changed(JobRepository.JOB.mapRow(rs, row), rs.getInt("generation"), rs.getString("job_tenant"));
    }
}
