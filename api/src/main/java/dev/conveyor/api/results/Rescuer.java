package dev.conveyor.api.results;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.wakeup.JobNotifications;
import dev.conveyor.api.workers.LiveWorkers;
import dev.conveyor.common.JobStatus;
import java.util.ArrayList;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.SqlArrayValue;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Makes sure no job stays RUNNING forever. Two ways an attempt counts as lost (error {@code WORKER_LOST}), and is
 * then retried (a lost attempt is charged to the job's budget only past {@link RetryPolicy#LOST_ATTEMPTS_ALLOWED}),
 * cancelled if that was asked for, or failed:
 * <ul>
 * <li>its worker stopped sending heartbeats (it crashed, or lost Kafka);
 * <li>it is still RUNNING well past {@code startedAt + timeoutSeconds}, although workers interrupt and report at
 * the deadline (its outcome could not be reported).
 * </ul>
 */
@Component
class Rescuer {

    private static final Logger log = LoggerFactory.getLogger(Rescuer.class);

    private static final String LOST = """
            UPDATE jobs SET
                status = CASE WHEN cancel_requested_at IS NOT NULL THEN 'CANCELLED'
                              WHEN attempts < max_attempts + :lostAllowed THEN 'SCHEDULED' ELSE 'FAILED' END,
                error = jsonb_build_object('code', 'WORKER_LOST', 'retryable', true, 'message', %s),
                run_at = now(),
                finished_at = CASE WHEN cancel_requested_at IS NULL AND attempts < max_attempts + :lostAllowed
                                   THEN NULL ELSE now() END,
                dispatched_at = NULL,
                dispatch_lease_until = NULL,
                updated_at = now()
            WHERE status = 'RUNNING' AND %s
            RETURNING id, status
            """;

    private static final String SILENT_WORKER = LOST.formatted(
            "'worker ' || worker_id || ' stopped sending heartbeats while it ran attempt ' || attempts",
            "NOT (worker_id = ANY(:live::text[])) AND updated_at < now() - make_interval(secs => :ttlSeconds)");

    private static final String PAST_DEADLINE = LOST.formatted(
            "'attempt ' || attempts || ' reported no outcome within its timeout'",
            "started_at < now() - make_interval(secs => timeout_seconds + :graceSeconds)");

    private final JdbcClient jdbc;
    private final TransactionTemplate transaction;
    private final JobNotifications notifications;
    private final LiveWorkers workers;
    private final ApiProperties properties;

    Rescuer(JdbcClient jdbc, TransactionTemplate transaction, JobNotifications notifications, LiveWorkers workers,
            ApiProperties properties) {
        this.jdbc = jdbc;
        this.transaction = transaction;
        this.notifications = notifications;
        this.workers = workers;
        this.properties = properties;
    }

    @Scheduled(fixedDelayString = "${conveyor.api.rescue-interval:15s}")
    void rescue() {
        try {
            rescue(jdbc.sql(PAST_DEADLINE).param("graceSeconds", properties.rescueGrace().toMillis() / 1000.0));
            workers.idsIfKnown().ifPresent(live -> rescue(jdbc.sql(SILENT_WORKER)
                    .param("live", new SqlArrayValue("text", live.toArray()))
                    .param("ttlSeconds", properties.workerTtl().toMillis() / 1000.0)));
        } catch (RuntimeException e) {
            log.warn("Rescue pass failed (will retry): {}", e.getMessage());
        }
    }

    private void rescue(JdbcClient.StatementSpec statement) {
        transaction.executeWithoutResult(status -> {
            var ended = new ArrayList<UUID>();
            var rescued = statement.param("lostAllowed", RetryPolicy.LOST_ATTEMPTS_ALLOWED)
                    .query((rs, row) -> {
                        if (JobStatus.valueOf(rs.getString("status")).isTerminal()) {
                            ended.add(rs.getObject("id", UUID.class));
                        }
                        return rs.getObject("id", UUID.class);
                    })
                    .list();
            if (!rescued.isEmpty()) {
                log.warn("Rescued {} attempts whose workers were lost: {}", rescued.size(), rescued);
            }
            notifications.notifyEnded(ended);
        });
    }
}
