package dev.conveyor.api.dispatch;

import dev.conveyor.api.job.JobLocks;
import dev.conveyor.api.results.LostAttempts;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.SqlArrayValue;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The reconciler's SQL: dispatched jobs still waiting QUEUED, compared with how far their share group has got.
 * Positions come from the dispatch marks (V5).
 */
@Component
class LostRecords {

    /** One descent of the partial index per queue (a loose index scan), not a scan of every waiting job. */
    private static final String QUEUES = """
            WITH RECURSIVE q(queue) AS (
                (SELECT queue FROM jobs WHERE status = 'QUEUED' AND dispatched_at IS NOT NULL
                 ORDER BY queue LIMIT 1)
                UNION ALL
                SELECT (SELECT queue FROM jobs WHERE status = 'QUEUED' AND dispatched_at IS NOT NULL
                          AND queue > q.queue ORDER BY queue LIMIT 1)
                FROM q WHERE q.queue IS NOT NULL)
            SELECT queue FROM q WHERE queue IS NOT NULL
            """;

    private static final String BELOW = """
            SELECT j.id, j.attempts, j.record_partition, j.record_offset
            FROM unnest(:partitions::int[], :starts::int8[]) AS s(partition, start_offset)
            JOIN jobs j ON j.queue = :queue AND j.record_partition = s.partition AND j.record_offset < s.start_offset
            WHERE j.status = 'QUEUED' AND j.dispatched_at IS NOT NULL AND j.id > :after
            ORDER BY j.id
            LIMIT :limit
            """;

    /**
     * The jobs that still wait on the very record that was found lost: a start applied meanwhile (status, attempts) or
     * a newer publication (position) leaves the row alone.
     */
    private static final String STILL_WAITING = """
            SELECT j.id
            FROM unnest(:ids::uuid[], :attempts::int[], :partitions::int[], :offsets::int8[])
                AS v(id, attempts, partition, record_offset)
            JOIN jobs j ON j.id = v.id
            WHERE j.status = 'QUEUED' AND j.dispatched_at IS NOT NULL AND j.attempts = v.attempts
              AND j.record_partition = v.partition AND j.record_offset = v.record_offset
            ORDER BY j.id
            """;

    // PostgreSQL orders uuids as unsigned bytes: the nil uuid comes first (and is never a job id, all UUIDv7)
    private static final UUID FIRST = new UUID(0, 0);

    private final JdbcClient jdbc;
    private final TransactionTemplate transaction;
    private final JobLocks locks;
    private final LostAttempts lostAttempts;

    LostRecords(JdbcClient jdbc, TransactionTemplate transaction, JobLocks locks, LostAttempts lostAttempts) {
        this.jdbc = jdbc;
        this.transaction = transaction;
        this.locks = locks;
        this.lostAttempts = lostAttempts;
    }

    /** A dispatched job waiting for a worker, and where its record is. */
    record Waiting(UUID id, int attempts, int partition, long offset) {
    }

    /** Queues that have dispatched jobs waiting QUEUED. */
    List<String> queues() {
        return jdbc.sql(QUEUES).query(String.class).list();
    }

    /**
     * Dispatched jobs of the queue, still QUEUED, whose record lies below its partition's settled offset (see
     * {@link SharePositions#settledOffsets}), in id order after {@code after} (null: from the first).
     */
    List<Waiting> below(String queue, Map<Integer, Long> settled, UUID after, int limit) {
        var partitions = settled.keySet().toArray(Integer[]::new);
        var starts = new Long[partitions.length];
        for (var i = 0; i < partitions.length; i++) {
            starts[i] = settled.get(partitions[i]);
        }
        return jdbc.sql(BELOW)
                .param("queue", queue)
                .param("partitions", new SqlArrayValue("int4", (Object[]) partitions))
                .param("starts", new SqlArrayValue("int8", (Object[]) starts))
                .param("after", after == null ? FIRST : after)
                .param("limit", limit)
                .query((rs, row) -> new Waiting(rs.getObject("id", UUID.class), rs.getInt("attempts"),
                        rs.getInt("record_partition"), rs.getLong("record_offset")))
                .list();
    }

    /**
     * Counts the attempt of each job still waiting on the same record as lost ({@link LostAttempts}), which makes
     * the job due again (or fails it, past max-lost-attempts); answers which jobs.
     */
    List<UUID> redispatch(List<Waiting> jobs) {
        return transaction.execute(status -> {
            locks.lock(jobs.stream().map(Waiting::id).toList());
            var waiting = jdbc.sql(STILL_WAITING)
                    .param("ids", new SqlArrayValue("uuid", jobs.stream().map(Waiting::id).toArray()))
                    .param("attempts", new SqlArrayValue("int4", jobs.stream().map(Waiting::attempts).toArray()))
                    .param("partitions", new SqlArrayValue("int4", jobs.stream().map(Waiting::partition).toArray()))
                    .param("offsets", new SqlArrayValue("int8", jobs.stream().map(Waiting::offset).toArray()))
                    .query(UUID.class)
                    .list();
            return lostAttempts.lose(waiting);
        });
    }
}
