package dev.conveyor.api.dashboard;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.springframework.jdbc.core.RowCallbackHandler;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * Counts the jobs whose end was recorded in a span of time, per bucket and queue, with latency percentiles: one
 * range scan of {@code jobs_ended_idx} (migration V7) over the rows of that span, never the whole table.
 */
@Repository
class EndedJobs {

    /**
     * Buckets are aligned to the epoch; {@code hi}, the end of the last bucket that has settled, comes from the
     * database's clock, the same that wrote {@code updated_at}. Latency is from when the job was due (its
     * {@code runAt}, or its submission) to when its end was recorded: the wait for a worker, the run, and the trip
     * back. A row with a null queue (the second grouping set) is the bucket over all queues.
     */
    static final String ENDED = """
            WITH bounds AS (
                SELECT date_bin(make_interval(secs => :bucketSeconds), now() - make_interval(secs => :settleSeconds),
                                TIMESTAMPTZ 'epoch') AS hi
            )
            SELECT b.hi, e.start, e.queue, e.total, e.ended, e.succeeded, e.failed, e.cancelled, e.latency_ms
            FROM bounds b
            LEFT JOIN LATERAL (
                SELECT j.start, j.queue, grouping(j.queue) = 1 AS total,
                       count(*) AS ended,
                       count(*) FILTER (WHERE j.status = 'SUCCEEDED') AS succeeded,
                       count(*) FILTER (WHERE j.status = 'FAILED') AS failed,
                       count(*) FILTER (WHERE j.status = 'CANCELLED') AS cancelled,
                       percentile_disc(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY j.latency_ms) AS latency_ms
                FROM (SELECT date_bin(make_interval(secs => :bucketSeconds), updated_at, TIMESTAMPTZ 'epoch') AS start,
                             queue, status,
                             (1000 * extract(epoch FROM updated_at - greatest(run_at, created_at)))::float8 AS latency_ms
                      FROM jobs
                      WHERE status IN ('SUCCEEDED', 'FAILED', 'CANCELLED')
                        AND updated_at >= greatest(CAST(:from AS timestamptz), b.hi - make_interval(secs => :historySeconds))
                        AND updated_at < b.hi) j
                GROUP BY GROUPING SETS ((j.start, j.queue), (j.start))
            ) e ON true
            ORDER BY e.start, e.queue NULLS FIRST
            """;

    /** One bucket of one queue, or of all queues ({@code queue} null). */
    record Row(Instant start, String queue, long ended, long succeeded, long failed, long cancelled,
            Double p50Ms, Double p95Ms, Double p99Ms) {
    }

    /** The rows counted, and the end of the span they cover ({@code hi}, exclusive). */
    record Span(Instant hi, List<Row> rows) {
    }

    private final JdbcClient jdbc;

    EndedJobs(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * The jobs whose end was recorded from {@code from} (null: one bucket before {@code hi}; never more than
     * {@code history} before it) up to the end of the last settled bucket.
     */
    Span since(Instant from, Duration bucket, Duration settle, Duration history) {
        var rows = new ArrayList<Row>();
        var hi = new Instant[1];
        jdbc.sql(ENDED)
                .param("bucketSeconds", bucket.toSeconds())
                .param("settleSeconds", settle.toMillis() / 1000.0)
                .param("historySeconds", from == null ? bucket.toSeconds() : history.toSeconds())
                .param("from", from == null ? null : from.toString())
                .query((RowCallbackHandler) rs -> {
                    hi[0] = rs.getTimestamp("hi").toInstant();
                    if (rs.getTimestamp("start") != null) {
                        rows.add(row(rs));
                    }
                });
        return new Span(hi[0], rows);
    }

    private static Row row(ResultSet rs) throws SQLException {
        var latency = (Double[]) rs.getArray("latency_ms").getArray();
        return new Row(rs.getTimestamp("start").toInstant(), rs.getBoolean("total") ? null : rs.getString("queue"),
                rs.getLong("ended"), rs.getLong("succeeded"), rs.getLong("failed"), rs.getLong("cancelled"),
                latency[0], latency[1], latency[2]);
    }
}
