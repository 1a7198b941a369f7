package dev.conveyor.api.retention;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.TaskFailures;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Deletes the jobs that ended longer ago than {@code conveyor.api.retention} keeps them, so that the job table (and
 * its indexes) holds the recent past, not everything ever run. A job's end is recorded once, with
 * {@code updated_at}, and a retry takes it out of its ended state: the jobs past their time are found from the newest
 * entries of a partial index on ended jobs ({@code jobs_ended_idx}), a thousand at a time, each batch its own short
 * transaction. Rows another transaction holds (a retry of a failed job, say) are skipped, not waited for. Every api
 * instance runs this; they skip each other's rows.
 */
@Component
public class JobCleaner {

    static final int BATCH = 1000;
    private static final Duration FLOOR_SLACK = Duration.ofHours(1);
    private static final Duration FULL_PASS_EVERY = Duration.ofDays(1);
    private static final Logger log = LoggerFactory.getLogger(JobCleaner.class);

    /**
     * Removes the counter rows of {@code GET /v1/queues} that add up to nothing: per tenant, queue and status the
     * count is the sum of up to 16 rows (one per writer's slot), and rows were never removed, so they grew with every
     * tenant and queue ever used, all summed by every listing. Any set of rows whose sum is zero can go without
     * changing a count, whatever else is written meanwhile: the rows are locked first and summed as locked (a row
     * another transaction holds is skipped, never waited for, so no writer waits on this for more than the statement
     * and nothing can deadlock), and a writer that finds its row gone inserts it again.
     */
    private static final String DELETE_SETTLED_COUNTS = """
            WITH candidates AS (
                SELECT tenant, queue, status FROM queue_counts GROUP BY tenant, queue, status HAVING sum(n) = 0
            ), locked AS (
                SELECT c.tenant, c.queue, c.status, c.slot, c.n
                FROM queue_counts c JOIN candidates USING (tenant, queue, status)
                FOR UPDATE OF c SKIP LOCKED
            ), settled AS (
                SELECT tenant, queue, status FROM locked GROUP BY tenant, queue, status HAVING sum(n) = 0
            )
            DELETE FROM queue_counts c
            USING locked l JOIN settled s USING (tenant, queue, status)
            WHERE c.tenant = l.tenant AND c.queue = l.queue AND c.status = l.status AND c.slot = l.slot""";

    private final JdbcClient jdbc;
    private final ApiProperties.Retention retention;
    private final Counter deleted;
    private final AtomicBoolean running = new AtomicBoolean();
    private final TaskFailures failures = new TaskFailures(log, "Deleting the jobs past their retention",
            "they are kept");
    /**
     * Per status, below which the last pass left nothing to delete but the rows it skipped (held by another
     * transaction as it looked). Forgotten once a day, so that a pass then looks at everything again.
     */
    private final Map<String, OffsetDateTime> floors = new ConcurrentHashMap<>();
    private volatile long floorsSince = System.nanoTime();

    JobCleaner(JdbcClient jdbc, ApiProperties properties, MeterRegistry meters) {
        this.jdbc = jdbc;
        this.retention = properties.retention();
        this.deleted = Counter.builder("conveyor.jobs.deleted")
                .description("Ended jobs deleted once past conveyor.api.retention").register(meters);
    }

    /**
     * Starts a pass on a thread of its own, unless one still runs: the first pass after an upgrade may have millions
     * of rows to delete, and fixed-delay tasks share one scheduler thread with the rescuer.
     */
    @Scheduled(fixedDelayString = "${conveyor.api.retention.interval:1m}",
            initialDelayString = "${conveyor.api.retention.interval:1m}")
    void scheduled() {
        if (!running.compareAndSet(false, true)) {
            return;
        }
        Thread.ofVirtual().name("job-cleaner").start(() -> {
            try {
                clean();
                failures.worked();
            } catch (RuntimeException e) {
                failures.failed(e);
            } finally {
                running.set(false);
            }
        });
    }

    /** Deletes every job past its retention; answers how many. */
    public long clean() {
        if (System.nanoTime() - floorsSince > FULL_PASS_EVERY.toNanos()) {
            floors.clear();
            floorsSince = System.nanoTime();
        }
        // one statement per status, each written out, so that the planner can use the partial index on ended jobs
        var total = clean("'SUCCEEDED'", retention.succeeded()) + clean("'CANCELLED'", retention.cancelled())
                + clean("'FAILED'", retention.failed());
        if (total > 0) {
            log.info("Deleted {} ended jobs past their retention (succeeded {}, cancelled {}, failed {})", total,
                    retention.succeeded(), retention.cancelled(), retention.failed());
        }
        jdbc.sql(DELETE_SETTLED_COUNTS).update();
        return total;
    }

    private long clean(String status, Duration keep) {
        if (keep.isZero()) {
            return 0;
        }
        var cutoff = jdbc.sql("SELECT now() - make_interval(secs => :seconds)")
                .param("seconds", keep.toMillis() / 1000.0).query(OffsetDateTime.class).single();
        var from = floors.get(status);
        long total = 0;
        while (true) {
            var sql = """
                    DELETE FROM jobs WHERE id IN (
                        SELECT id FROM jobs
                        WHERE status IN (%s) AND updated_at < :cutoff %s
                        ORDER BY updated_at
                        LIMIT :batch
                        FOR UPDATE SKIP LOCKED)
                    RETURNING updated_at""".formatted(status, from == null ? "" : "AND updated_at >= :from");
            var statement = jdbc.sql(sql).param("cutoff", cutoff).param("batch", BATCH);
            var ends = (from == null ? statement : statement.param("from", from)).query(OffsetDateTime.class).list();
            total += ends.size();
            deleted.increment(ends.size());
            if (ends.size() < BATCH) {
                // Ended rows are never written again with an older updated_at, so the next pass starts near this
                // cutoff: the index is ordered by updated_at alone, and without a floor each pass would read again
                // every entry of the other statuses kept longer (a month of failed jobs, to delete a minute of
                // succeeded ones). The hour of slack covers a database clock set back.
                floors.put(status, cutoff.minus(FLOOR_SLACK));
                return total;
            }
            // The next batch goes on from where this one ended, for the same reason: started again from the pass's
            // floor, each batch read again every entry before it (a backlog of a million deletions behind a month of
            // failed jobs read those a thousand times). A row skipped below it, held by another transaction, is left
            // to the daily pass over everything, as one below the floor is.
            from = ends.stream().max(OffsetDateTime::compareTo).orElseThrow();
        }
    }
}
