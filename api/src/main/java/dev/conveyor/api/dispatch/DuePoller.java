package dev.conveyor.api.dispatch;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.TaskFailures;
import dev.conveyor.common.Json;
import dev.conveyor.common.Threads;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.SqlArrayValue;
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

    /**
     * Takes an equal share of each (queue, tenant)'s due jobs, oldest first, within the room left in its window.
     * The (queue, tenant) pairs with jobs not on Kafka are found with a skip scan of {@code jobs_due_idx} (one index
     * probe per pair), so a tenant's backlog of a million rows costs no more than one of ten. The batch is shared only
     * among the pairs with room in their window and a job due now (one more probe each): a tenant whose jobs are all
     * due later took a share its jobs could not use, so that a hundred tenants with a job scheduled for tomorrow each
     * left a tenant with thousands of retries due one job of the batch per look. That probe is a {@code LATERAL}
     * subquery with {@code LIMIT 1}, which the planner can only run per pair: written as {@code EXISTS}, with the
     * statistics of a fresh system (next to nothing waiting), it hashed every waiting job of the table, read through
     * {@code jobs_status_id_idx}, on each claim ({@code StaleStatisticsPlansTest}).
     */
    static final String CLAIM = """
            WITH RECURSIVE live AS MATERIALIZED (SELECT coalesce(array_agg(owner), '{}') AS owners
                                                 FROM (%s) AS held(owner)),
            pairs AS (
                (SELECT queue, tenant FROM jobs
                 WHERE dispatched_at IS NULL AND status IN ('SCHEDULED', 'QUEUED')
                 ORDER BY queue, tenant LIMIT 1)
                UNION ALL
                SELECT next.queue, next.tenant
                FROM pairs p, LATERAL (SELECT queue, tenant FROM jobs
                                       WHERE dispatched_at IS NULL AND status IN ('SCHEDULED', 'QUEUED')
                                         AND (queue, tenant) > (p.queue, p.tenant)
                                       ORDER BY queue, tenant LIMIT 1) next
            ),
            shares AS MATERIALIZED (
                SELECT p.queue, p.tenant,
                       least(coalesce(r.room, :window), greatest(1, :limit / count(*) OVER ())) AS share
                FROM pairs p
                LEFT JOIN unnest(:roomQueues::text[], :roomTenants::text[], :rooms::int[]) AS r(queue, tenant, room)
                       ON r.queue = p.queue AND r.tenant = p.tenant
                CROSS JOIN LATERAL (SELECT 1 FROM jobs d
                                    WHERE d.queue = p.queue AND d.tenant = p.tenant AND d.dispatched_at IS NULL
                                      AND d.status IN ('SCHEDULED', 'QUEUED') AND d.run_at <= now()
                                    ORDER BY d.run_at LIMIT 1) due_now
                WHERE coalesce(r.room, :window) > 0
            )
            UPDATE jobs j
            SET status = 'QUEUED',
                dispatch_lease_until = now() + make_interval(secs => :leaseSeconds),
                dispatch_owner = :owner,
                updated_at = CASE WHEN j.status = 'SCHEDULED' THEN now() ELSE j.updated_at END
            FROM (SELECT due.id
                  FROM shares s, live,
                       LATERAL (SELECT id FROM jobs
                                WHERE queue = s.queue AND tenant = s.tenant
                                  AND dispatched_at IS NULL AND status IN ('SCHEDULED', 'QUEUED') AND run_at <= now()
                                  AND (dispatch_lease_until IS NULL OR dispatch_lease_until < now()
                                       OR dispatch_owner IS NULL OR NOT (dispatch_owner = ANY(live.owners)))
                                ORDER BY run_at, id
                                LIMIT s.share
                                FOR UPDATE OF jobs SKIP LOCKED) due
                  WHERE s.share > 0) taken
            WHERE j.id = taken.id
            RETURNING j.id, j.tenant, j.type, j.queue, j.attempts, j.max_attempts, j.timeout_seconds, j.payload,
                      j.generation, j.run_at, j.hand_backs
            """.formatted(ApiInstance.LIVE_OWNERS_SQL);

    /** Publishes jobs whose leases were taken at the given {@link System#nanoTime()}. */
    interface Publisher {
        void publish(List<Dispatcher.Item> items, long takenAt);
    }

    private final JdbcClient jdbc;
    private final Publisher publisher;
    private final Consumer<List<Dispatcher.Item>> releaser;
    private final LongSupplier owner;
    private final BooleanSupplier judgesLeases;
    private final ApiProperties.Dispatch settings;
    private final TenantWindows windows;
    private final Backlog backlog;
    private final long sendWithinNanos;
    private final TaskFailures failures = new TaskFailures(log, "The dispatch poll",
            "delayed jobs, retries and jobs the fast path missed are not published");
    private final BlockingQueue<Boolean> wakeups = new ArrayBlockingQueue<>(1);
    private volatile boolean running;
    private Thread poller;

    @Autowired
    DuePoller(JdbcClient jdbc, Dispatcher dispatcher, LeaseReleases releases, ApiInstance instance,
            ApiProperties properties, TenantWindows windows, Backlog backlog) {
        this(jdbc, dispatcher::publish, releases::releaseNow, instance::id, instance::judgesLeases,
                properties.dispatch(), windows, backlog, dispatcher.sendWithin());
    }

    /**
     * With what it publishes to and gives leases back through (for tests), the id its leases carry, whether it may
     * judge leases now, and how long after a lease is taken its job's publication may still begin.
     */
    DuePoller(JdbcClient jdbc, Publisher publisher, Consumer<List<Dispatcher.Item>> releaser, LongSupplier owner,
            BooleanSupplier judgesLeases, ApiProperties.Dispatch settings, TenantWindows windows, Backlog backlog,
            Duration sendWithin) {
        this.judgesLeases = judgesLeases;
        this.jdbc = jdbc;
        this.backlog = backlog;
        this.sendWithinNanos = sendWithin.toNanos();
        this.publisher = publisher;
        this.releaser = releaser;
        this.owner = owner;
        this.settings = settings;
        this.windows = windows;
        windows.onFreed(() -> wakeups.offer(Boolean.TRUE));
    }

    /**
     * Publishes the jobs of this instance's {@link Backlog} that fit in their windows, then one batch of due jobs from
     * PostgreSQL, an equal share of each tenant's within the room left; answers how many in all.
     */
    int dispatchDue() {
        windows.looking();
        windows.expire();
        var kept = backlog.drain(windows, System.nanoTime() - sendWithinNanos);
        if (!kept.items().isEmpty()) {
            publisher.publish(kept.items(), kept.takenAt());
        }
        if (!judgesLeases.getAsBoolean()) {
            // a claim now would take leases whose owners are alive but not yet seen so: this instance's own, or the
            // others' just after a restart of the database (ApiInstance.judgesLeases); the next look claims
            return kept.items().size();
        }
        var rooms = windows.rooms();
        var queues = new String[rooms.size()];
        var tenants = new String[rooms.size()];
        var room = new Integer[rooms.size()];
        var i = 0;
        for (var entry : rooms.entrySet()) {
            queues[i] = entry.getKey().queue();
            tenants[i] = entry.getKey().tenant();
            room[i++] = entry.getValue();
        }
        var taken = new ArrayList<Taken>(jdbc.sql(CLAIM)
                .param("leaseSeconds", settings.lease().toMillis() / 1000.0)
                .param("owner", owner.getAsLong())
                .param("limit", settings.batchSize())
                .param("window", windows.size())
                .param("roomQueues", new SqlArrayValue("text", (Object[]) queues))
                .param("roomTenants", new SqlArrayValue("text", (Object[]) tenants))
                .param("rooms", new SqlArrayValue("int4", (Object[]) room))
                .query((rs, row) -> new Taken(rs.getTimestamp("run_at").toInstant(),
                        new Dispatcher.Item(rs.getObject("id", UUID.class), rs.getString("tenant"),
                                rs.getString("type"), rs.getString("queue"), rs.getInt("attempts"),
                                rs.getInt("max_attempts"), rs.getInt("timeout_seconds"),
                                Json.raw(rs.getString("payload")), rs.getInt("generation"),
                                rs.getInt("hand_backs"))))
                .list());
        // on Kafka in the order they were due (RETURNING keeps none)
        taken.sort(Comparator.comparing(Taken::runAt).thenComparing(t -> t.item().id()));
        var due = new ArrayList<Dispatcher.Item>(taken.size());
        var refused = new ArrayList<Dispatcher.Item>();
        for (var job : taken) {
            var item = job.item();
            // the room was read before the claim: a submission may have filled the window since, and what does not
            // fit goes back to PostgreSQL (its lease given up before the next claim, which takes it first) rather
            // than past the window onto Kafka
            if (windows.admit(item.id(), item.queue(), item.tenant())) {
                due.add(item);
            } else {
                refused.add(item);
            }
        }
        if (!refused.isEmpty()) {
            releaser.accept(refused);
        }
        // a tenant whose window is full may have more waiting: look again as soon as slots free up
        windows.backlog(windows.rooms().containsValue(0));
        if (!due.isEmpty()) {
            publisher.publish(due, System.nanoTime());
        }
        // only a look that asked PostgreSQL says it works: one that could not claim (its instance judging no lease,
        // as while the database is away) proves nothing about the database
        failures.worked();
        return kept.items().size() + due.size();
    }

    private record Taken(Instant runAt, Dispatcher.Item item) {
    }

    private void pollLoop() {
        while (running) {
            try {
                var taken = dispatchDue();
                if (taken == 0 || (taken < settings.batchSize() && !windows.backlog())) {
                    // woken early when a tenant's window frees up while it has jobs waiting
                    wakeups.poll(settings.pollInterval().toNanos(), TimeUnit.NANOSECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                failures.failed(e);
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
