package dev.conveyor.api.queues;

import java.util.List;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * Reads the per-queue counters that the triggers of migration V2 keep, so the cost of a call depends on the
 * number of queues, not of jobs.
 */
@Repository
public class QueueCounts {

    /**
     * The counters summed over their slots; a queue whose jobs are all gone sums to zero and is left out. The
     * oldest QUEUED job of each queue is the first entry of {@code jobs_queued_run_at_idx} for it. Names sort
     * bytewise ({@code COLLATE "C"}), as clients compare strings, not by the database's locale.
     */
    static final String QUEUES = """
            WITH counts AS (
                SELECT queue,
                       coalesce(sum(n) FILTER (WHERE status = 'SCHEDULED'), 0) AS scheduled,
                       coalesce(sum(n) FILTER (WHERE status = 'QUEUED'), 0)    AS queued,
                       coalesce(sum(n) FILTER (WHERE status = 'RUNNING'), 0)   AS running,
                       coalesce(sum(n) FILTER (WHERE status = 'SUCCEEDED'), 0) AS succeeded,
                       coalesce(sum(n) FILTER (WHERE status = 'FAILED'), 0)    AS failed,
                       coalesce(sum(n) FILTER (WHERE status = 'CANCELLED'), 0) AS cancelled
                FROM queue_counts
                GROUP BY queue
                HAVING sum(n) > 0
            )
            SELECT c.*,
                   coalesce(round(greatest(extract(epoch FROM now() - oldest.run_at), 0), 3), 0)
                       AS oldest_queued_seconds
            FROM counts c
            LEFT JOIN LATERAL (SELECT run_at FROM jobs
                               WHERE status = 'QUEUED' AND queue = c.queue
                               ORDER BY run_at
                               LIMIT 1) oldest ON c.queued > 0
            ORDER BY c.queue COLLATE "C"
            """;

    private final JdbcClient jdbc;

    QueueCounts(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** Every queue that has jobs, sorted by name. */
    public List<QueueStats> all() {
        return jdbc.sql(QUEUES)
                .query((rs, row) -> new QueueStats(rs.getString("queue"), rs.getLong("scheduled"),
                        rs.getLong("queued"), rs.getLong("running"), rs.getLong("succeeded"), rs.getLong("failed"),
                        rs.getLong("cancelled"), rs.getDouble("oldest_queued_seconds")))
                .list();
    }
}
