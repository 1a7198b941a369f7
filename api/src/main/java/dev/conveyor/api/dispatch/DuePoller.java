package dev.conveyor.api.dispatch;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.common.Json;
import dev.conveyor.common.Threads;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * The safety net of dispatching: takes due jobs that are not on Kafka yet (delayed jobs, retries after their
 * backoff, and anything the fast path missed) and publishes them. {@code SKIP LOCKED} and the lease keep several
 * api instances from publishing the same job; a lease whose owner has died (see {@link ApiInstance}) does not wait
 * to run out, so the jobs a killed instance had accepted or taken are published by the others at once.
 */
@Component
class DuePoller implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(DuePoller.class);

    private static final String CLAIM = """
            WITH live AS MATERIALIZED (SELECT coalesce(array_agg(owner), '{}') AS owners
                                       FROM (%s) AS held(owner))
            UPDATE jobs j
            SET status = 'QUEUED',
                dispatch_lease_until = now() + make_interval(secs => :leaseSeconds),
                dispatch_owner = :owner,
                updated_at = CASE WHEN j.status = 'SCHEDULED' THEN now() ELSE j.updated_at END
            FROM (SELECT id FROM jobs, live
                  WHERE dispatched_at IS NULL AND status IN ('SCHEDULED', 'QUEUED') AND run_at <= now()
                    AND (dispatch_lease_until IS NULL OR dispatch_lease_until < now()
                         OR dispatch_owner IS NULL OR NOT (dispatch_owner = ANY(live.owners)))
                  ORDER BY run_at
                  LIMIT :limit
                  FOR UPDATE OF jobs SKIP LOCKED) due
            WHERE j.id = due.id
            RETURNING j.id, j.type, j.queue, j.attempts, j.max_attempts, j.timeout_seconds, j.payload, j.generation
            """.formatted(ApiInstance.LIVE_OWNERS_SQL);

    private final JdbcClient jdbc;
    private final Dispatcher dispatcher;
    private final ApiInstance instance;
    private final ApiProperties.Dispatch settings;
    private volatile boolean running;
    private Thread poller;

    DuePoller(JdbcClient jdbc, Dispatcher dispatcher, ApiInstance instance, ApiProperties properties) {
        this.jdbc = jdbc;
        this.instance = instance;
        this.dispatcher = dispatcher;
        this.settings = properties.dispatch();
    }

    /** Publishes one batch of due jobs; answers how many. */
    int dispatchDue() {
        List<Dispatcher.Item> due = jdbc.sql(CLAIM)
                .param("leaseSeconds", settings.lease().toMillis() / 1000.0)
                .param("owner", instance.id())
                .param("limit", settings.batchSize())
                .query((rs, row) -> new Dispatcher.Item(rs.getObject("id", UUID.class), rs.getString("type"),
                        rs.getString("queue"), rs.getInt("attempts"), rs.getInt("max_attempts"),
                        rs.getInt("timeout_seconds"), Json.tree(rs.getString("payload")), rs.getInt("generation")))
                .list();
        if (!due.isEmpty()) {
            dispatcher.publish(due);
        }
        return due.size();
    }

    private void pollLoop() {
        while (running) {
            try {
                if (dispatchDue() < settings.batchSize()) {
                    Thread.sleep(settings.pollInterval());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                log.warn("Dispatch poll failed (retrying): {}", e.getMessage());
                try {
                    Thread.sleep(settings.pollInterval().multipliedBy(4));
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    @Override
    public void start() {
        running = true;
        poller = Thread.ofVirtual().name("due-poller").start(this::pollLoop);
    }

    @Override
    public void stop() {
        running = false;
        Threads.joinOrInterrupt(poller, Duration.ofSeconds(5));
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Stops before the dispatcher it feeds. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 4096;
    }
}
