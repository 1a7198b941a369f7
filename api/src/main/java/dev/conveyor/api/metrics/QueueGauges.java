package dev.conveyor.api.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.time.Duration;
import java.util.HashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Gauges of the job store, refreshed by two aggregate queries every few seconds (never per scrape, never per job):
 * jobs per queue and status and the age of each queue's oldest QUEUED job (from the counters of migration V2 and
 * one index probe per queue), and the jobs that are due but not on Kafka yet (the dispatch lag). Every api instance
 * reports the same values: take {@code max}, not {@code sum}, across instances.
 */
@Component
class QueueGauges {

    private static final Logger log = LoggerFactory.getLogger(QueueGauges.class);

    /** Counting undispatched jobs stops here: past it the backlog is plainly large, and the count stays cheap. */
    static final int MAX_COUNTED_PENDING = 100_000;

    private static final String QUEUES = """
            WITH counts AS (
                SELECT queue, status, sum(n) AS n FROM queue_counts GROUP BY queue, status HAVING sum(n) > 0
            )
            SELECT c.queue, c.status, c.n,
                   CASE WHEN c.status = 'QUEUED'
                        THEN coalesce(greatest(extract(epoch FROM now() - (SELECT min(run_at) FROM jobs
                                      WHERE status = 'QUEUED' AND queue = c.queue)), 0), 0)
                   END AS oldest_seconds
            FROM counts c
            """;

    /** Due and not on Kafka: what the dispatcher's claim looks for (index {@code jobs_due_idx}). */
    private static final String PENDING = """
            SELECT count(*) AS n, coalesce(greatest(extract(epoch FROM now() - min(run_at)), 0), 0) AS oldest_seconds
            FROM (SELECT run_at FROM jobs
                  WHERE dispatched_at IS NULL AND status IN ('SCHEDULED', 'QUEUED') AND run_at <= now()
                  ORDER BY run_at LIMIT :limit) due
            """;

    private final JdbcClient jdbc;
    private final GaugeSet jobs;
    private final GaugeSet oldestQueued;
    private final AtomicReference<double[]> pending = new AtomicReference<>(new double[] {0, 0});

    /**
     * {@code refreshInterval}: how often these gauges and {@link KafkaLags}' are refreshed, each time by aggregate
     * queries and Kafka admin calls, so checked here for both. A number alone is milliseconds.
     */
    QueueGauges(JdbcClient jdbc, MeterRegistry meters,
            @Value("${conveyor.metrics.refresh-interval:5s}") Duration refreshInterval) {
        if (refreshInterval.compareTo(Duration.ofMillis(100)) < 0
                || refreshInterval.compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException("conveyor.metrics.refresh-interval must be from 100ms to 1h, not "
                    + refreshInterval.toMillis() + " ms (a number alone is milliseconds: write 5s for five seconds)");
        }
        this.jdbc = jdbc;
        this.jobs = new GaugeSet("conveyor.queue.jobs", "jobs by queue and status", null, meters);
        this.oldestQueued = new GaugeSet("conveyor.queue.oldest.queued.age",
                "how long the oldest QUEUED job of the queue has been due", "seconds", meters);
        Gauge.builder("conveyor.dispatch.pending", pending, p -> p.get()[0])
                .description("jobs due but not on Kafka yet (counted up to " + MAX_COUNTED_PENDING + ")")
                .register(meters);
        Gauge.builder("conveyor.dispatch.oldest.pending.age", pending, p -> p.get()[1])
                .baseUnit("seconds").description("how long the oldest job due but not on Kafka has been due")
                .register(meters);
    }

    @Scheduled(fixedDelayString = "${conveyor.metrics.refresh-interval:5s}")
    void refresh() {
        try {
            var counts = new HashMap<Tags, Double>();
            var oldest = new HashMap<Tags, Double>();
            jdbc.sql(QUEUES).query(rs -> {
                var queue = rs.getString("queue");
                counts.put(Tags.of("queue", queue, "status", rs.getString("status")), (double) rs.getLong("n"));
                // a queue with no QUEUED job has kept nobody waiting
                oldest.merge(Tags.of("queue", queue), rs.getDouble("oldest_seconds"), Math::max);
            });
            jobs.set(counts);
            oldestQueued.set(oldest);
            var pendingNow = jdbc.sql(PENDING).param("limit", MAX_COUNTED_PENDING)
                    .query((rs, row) -> new double[] {rs.getLong("n"), rs.getDouble("oldest_seconds")}).single();
            pending.set(pendingNow);
        } catch (RuntimeException e) {
            log.debug("Could not refresh the queue gauges: {}", e.getMessage());
        }
    }
}
