package dev.conveyor.api.job;

import static dev.conveyor.api.auth.Caller.DEFAULT_TENANT;

import dev.conveyor.common.JobStatus;
import dev.conveyor.common.Json;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Reads jobs for the HTTP side. */
@Repository
public class JobRepository {

    /** The columns {@link #JOB} reads, by name. */
    public static final List<String> COLUMNS = List.of("id", "type", "queue", "status", "payload", "result", "error",
            "attempts", "max_attempts", "timeout_seconds", "idempotency_key", "worker_id", "created_at", "run_at",
            "started_at", "finished_at", "updated_at", "progress");

    public static final String COLUMNS_SQL = String.join(", ", COLUMNS) + " ";
    /** The columns of a summary ({@link #list} with {@code summary}): no payload or result read, not even detoasted. */
    private static final String SUMMARY_COLUMNS_SQL = String.join(", ", COLUMNS.stream()
            .map(column -> column.equals("payload") || column.equals("result") ? "NULL::jsonb AS " + column : column)
            .toList()) + " ";
    private static final String JSON_BYTES = "octet_length(payload::text) + coalesce(octet_length(result::text), 0) "
            + "+ coalesce(octet_length(error::text), 0) + coalesce(octet_length(progress::text), 0)";
    private static final String SUMMARY_JSON_BYTES = "coalesce(octet_length(error::text), 0) "
            + "+ coalesce(octet_length(progress::text), 0)";

    private static final String FIND = "SELECT " + COLUMNS_SQL + " FROM jobs WHERE id = :id";
    private static final String FIND_IN_TENANT = FIND + " AND tenant = :tenant";
    private static final String FIND_SUMMARY = "SELECT " + SUMMARY_COLUMNS_SQL + " FROM jobs WHERE id = :id";
    private static final String FIND_SUMMARY_IN_TENANT = FIND_SUMMARY + " AND tenant = :tenant";

    /** Rows in the order of the contract's Job. */
    public static final RowMapper<Job> JOB = JobRepository::map;

    private final JdbcClient jdbc;

    public JobRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    public Optional<Job> find(UUID id) {
        return jdbc.sql(FIND).param("id", id).query(JOB).optional();
    }

    /**
     * The job if {@code tenant} may see it: its own, or any for a null tenant (an admin). Another tenant's job is
     * answered as absent, so its existence does not show.
     */
    public Optional<Job> find(UUID id, String tenant) {
        return find(id, tenant, false);
    }

    /** As {@link #find(UUID, String)}; with {@code summary}, payload and result are neither read nor answered (null). */
    public Optional<Job> find(UUID id, String tenant, boolean summary) {
        if (tenant == null) {
            return jdbc.sql(summary ? FIND_SUMMARY : FIND).param("id", id).query(JOB).optional();
        }
        return jdbc.sql(summary ? FIND_SUMMARY_IN_TENANT : FIND_IN_TENANT).param("id", id).param("tenant", tenant)
                .query(JOB).optional();
    }

    /**
     * The most JSON (payloads, results, errors, progress, as PostgreSQL writes them) one page of {@link #list} holds,
     * past its first job. Without it a page of 500 jobs with the largest payloads and results took 640 MB in the
     * api, and a few such requests at once more than its heap.
     */
    public static final long PAGE_BYTES = 8 * 1024 * 1024;

    /** Jobs of a page, and whether {@link #PAGE_BYTES} left some of those asked for out. */
    public record Page(List<Job> jobs, boolean cut) {
    }

    /**
     * Newest first, up to {@code limit} jobs and {@link #PAGE_BYTES} of their JSON; {@code after} is the id of the
     * last job of the previous page. A tenant sees its own jobs only; {@code filter.tenant()} null means every
     * tenant's (an admin). With {@code summary}, payloads and results are neither read nor counted (they are null).
     */
    public Page list(JobFilter filter, UUID after, int limit, boolean summary) {
        var where = new ArrayList<String>();
        var sql = new StringBuilder("SELECT ").append(summary ? SUMMARY_COLUMNS_SQL : COLUMNS_SQL).append(" FROM jobs");
        if (filter.tenant() != null) {
            where.add("tenant = :tenant");
            if (!filter.tenant().equals(DEFAULT_TENANT)) {
                // implies the predicate of the partial index jobs_tenant_id_idx, also for a generic plan
                where.add("tenant <> '" + DEFAULT_TENANT + "'");
            }
        }
        if (filter.status() != null) {
            where.add("status = :status");
        }
        if (filter.queue() != null) {
            where.add("queue = :queue");
        }
        if (filter.type() != null) {
            where.add("type = :type");
        }
        if (after != null) {
            where.add("id < :after");
        }
        if (!where.isEmpty()) {
            sql.append(" WHERE ").append(String.join(" AND ", where));
        }
        sql.append(" ORDER BY id DESC LIMIT :limit");
        // the jobs asked for, then those whose JSON before them on the page is under the page's bytes
        var page = "SELECT " + COLUMNS_SQL + ", taken FROM (SELECT " + COLUMNS_SQL + ", count(*) OVER () AS taken, "
                + "sum(" + (summary ? SUMMARY_JSON_BYTES : JSON_BYTES) + ") OVER (ORDER BY id DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) "
                + "AS before FROM (" + sql + ") asked) sized WHERE coalesce(before, 0) < :pageBytes ORDER BY id DESC";
        var statement = jdbc.sql(page).param("limit", limit).param("pageBytes", PAGE_BYTES);
        if (filter.tenant() != null) {
            statement = statement.param("tenant", filter.tenant());
        }
        if (filter.status() != null) {
            statement = statement.param("status", filter.status().name());
        }
        if (filter.queue() != null) {
            statement = statement.param("queue", filter.queue());
        }
        if (filter.type() != null) {
            statement = statement.param("type", filter.type());
        }
        if (after != null) {
            statement = statement.param("after", after);
        }
        var taken = new int[1];
        var jobs = statement.query((rs, row) -> {
            taken[0] = rs.getInt("taken");
            return map(rs, row);
        }).list();
        return new Page(jobs, jobs.size() < taken[0]);
    }

    /** Exact-match filters of {@code GET /v1/jobs}; null means any. */
    public record JobFilter(String tenant, JobStatus status, String queue, String type) {
    }


    private static Job map(ResultSet rs, int row) throws SQLException {
        return new Job(
                rs.getObject("id", UUID.class),
                rs.getString("type"),
                rs.getString("queue"),
                JobStatus.valueOf(rs.getString("status")),
                json(rs.getString("payload")),
                json(rs.getString("result")),
                json(rs.getString("error")),
                rs.getInt("attempts"),
                rs.getInt("max_attempts"),
                rs.getInt("timeout_seconds"),
                rs.getString("idempotency_key"),
                rs.getString("worker_id"),
                instant(rs.getTimestamp("created_at")),
                instant(rs.getTimestamp("run_at")),
                instant(rs.getTimestamp("started_at")),
                instant(rs.getTimestamp("finished_at")),
                instant(rs.getTimestamp("updated_at")),
                json(rs.getString("progress")));
    }

    /**
     * A {@code jsonb} column as PostgreSQL wrote it, answered as it is: not read into a tree and written again (which
     * also read numbers as doubles, so that {@code 0.1000000000000000000001}, stored exactly, was answered as
     * {@code 0.1}).
     */
    private static tools.jackson.databind.JsonNode json(String text) {
        return text == null ? null : Json.raw(text);
    }

    /** Instants travel with millisecond precision, as the contract writes them. */
    public static Instant instant(Timestamp timestamp) {
        return timestamp == null ? null : timestamp.toInstant().truncatedTo(ChronoUnit.MILLIS);
    }
}
