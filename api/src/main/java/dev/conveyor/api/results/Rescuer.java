package dev.conveyor.api.results;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.wakeup.JobNotifications;
import dev.conveyor.common.JobStatus;
import java.util.ArrayList;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Makes sure no job stays RUNNING forever. A worker interrupts an attempt at its deadline and reports it, so an
 * attempt still RUNNING well past {@code startedAt + timeoutSeconds} lost its worker (and Kafka did not hand it
 * to another): it counts as a lost attempt and is retried if the budget allows, or fails.
 */
@Component
class Rescuer {

    private static final Logger log = LoggerFactory.getLogger(Rescuer.class);

    private static final String RESCUE = """
            UPDATE jobs SET
                status = CASE WHEN cancel_requested_at IS NOT NULL THEN 'CANCELLED'
                              WHEN attempts < max_attempts THEN 'SCHEDULED' ELSE 'FAILED' END,
                error = jsonb_build_object('code', 'WORKER_LOST', 'retryable', true, 'message',
                        'attempt ' || attempts || ' reported no outcome within its timeout'),
                run_at = now(),
                finished_at = CASE WHEN attempts < max_attempts AND cancel_requested_at IS NULL THEN NULL
                                   ELSE now() END,
                dispatched_at = NULL,
                dispatch_lease_until = NULL,
                updated_at = now()
            WHERE status = 'RUNNING'
              AND started_at < now() - make_interval(secs => timeout_seconds + :graceSeconds)
            RETURNING id, status
            """;

    private final JdbcClient jdbc;
    private final TransactionTemplate transaction;
    private final JobNotifications notifications;
    private final ApiProperties properties;

    Rescuer(JdbcClient jdbc, TransactionTemplate transaction, JobNotifications notifications,
            ApiProperties properties) {
        this.jdbc = jdbc;
        this.transaction = transaction;
        this.notifications = notifications;
        this.properties = properties;
    }

    @Scheduled(fixedDelayString = "${conveyor.api.rescue-interval:15s}")
    void rescue() {
        try {
            transaction.executeWithoutResult(status -> {
                var ended = new ArrayList<UUID>();
                var rescued = jdbc.sql(RESCUE)
                        .param("graceSeconds", properties.rescueGrace().toMillis() / 1000.0)
                        .query((rs, row) -> {
                            if (JobStatus.valueOf(rs.getString("status")).isTerminal()) {
                                ended.add(rs.getObject("id", UUID.class));
                            }
                            return rs.getObject("id", UUID.class);
                        })
                        .list();
                if (!rescued.isEmpty()) {
                    log.warn("Rescued {} attempts whose workers went silent: {}", rescued.size(), rescued);
                }
                notifications.notifyEnded(ended);
            });
        } catch (RuntimeException e) {
            log.warn("Rescue pass failed (will retry): {}", e.getMessage());
        }
    }
}
