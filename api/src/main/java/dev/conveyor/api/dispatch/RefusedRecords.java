package dev.conveyor.api.dispatch;

import dev.conveyor.api.metrics.JobMetrics;
import dev.conveyor.api.wakeup.JobNotifications;
import dev.conveyor.common.JobStatus;
import dev.conveyor.common.Json;
import dev.conveyor.common.message.JobError;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.SqlArrayValue;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Fails the jobs whose record Kafka refused for what it is, not for where Kafka is: a record larger than the
 * producer's {@code max.request.size} or the broker's {@code message.max.bytes} is refused again however often it is
 * sent, so publishing it again (as after an outage, {@link LeaseReleases}) kept the job QUEUED for ever, claimed,
 * encoded and refused at every poll. Only jobs still unpublished, on the same attempt and generation, and leased by
 * this instance are failed, many per statement. Best effort: a failure that cannot be written leaves the lease to
 * run out, and the job is refused, and failed, again.
 */
@Component
class RefusedRecords implements SmartLifecycle {

    static final String RECORD_TOO_LARGE = "RECORD_TOO_LARGE";

    private static final Logger log = LoggerFactory.getLogger(RefusedRecords.class);
    private static final int BATCH = 1000;

    /** Locked in id order, as every batched write of jobs locks (JobLocks). */
    static final String LOCK = "SELECT id FROM jobs WHERE id = ANY(:ids::uuid[]) ORDER BY id FOR UPDATE";

    static final String FAIL = """
            UPDATE jobs j SET status = 'FAILED', error = v.error::jsonb, finished_at = now(), updated_at = now(),
                dispatch_lease_until = NULL
            FROM unnest(:ids::uuid[], :generations::int[], :attempts::int[], :errors::text[])
                AS v(id, generation, attempts, error)
            WHERE j.id = v.id AND j.status = 'QUEUED' AND j.dispatched_at IS NULL AND j.generation = v.generation
              AND j.attempts = v.attempts AND j.dispatch_owner = :owner
            RETURNING j.id, j.queue, j.type, j.created_at, j.finished_at
            """;

    /** A job whose record Kafka refused, and why. */
    record Refused(UUID id, int generation, int attempts, String why) {
    }

    private record Failed(UUID id, String queue, String type, Instant createdAt, Instant finishedAt) {
    }

    private final JdbcClient jdbc;
    private final TransactionTemplate transaction;
    private final ApiInstance instance;
    private final JobNotifications notifications;
    private final JobMetrics metrics;
    private final BatchedWrites<Refused> refused;

    RefusedRecords(JdbcClient jdbc, TransactionTemplate transaction, ApiInstance instance,
            JobNotifications notifications, JobMetrics metrics) {
        this.jdbc = jdbc;
        this.transaction = transaction;
        this.instance = instance;
        this.notifications = notifications;
        this.metrics = metrics;
        this.refused = new BatchedWrites<>("refused-records", BATCH, this::fail, (jobs, e) -> log.warn(
                "Could not fail {} jobs whose record Kafka refused as too large (they are published, and refused, "
                        + "again once their lease runs out): {}", jobs, e.getMessage()));
    }

    /** Kafka refused the job's record as too large; never blocks (called on the producer's thread). */
    void tooLarge(Dispatcher.Item item, String why) {
        refused.add(new Refused(item.id(), item.generation(), item.attempts(), why));
    }

    private void fail(List<Refused> batch) {
        var failed = transaction.execute(status -> {
            var ids = batch.stream().map(Refused::id).toArray();
            jdbc.sql(LOCK).param("ids", new SqlArrayValue("uuid", ids)).query().listOfRows();
            var ended = jdbc.sql(FAIL)
                    .param("ids", new SqlArrayValue("uuid", ids))
                    .param("generations", new SqlArrayValue("int4", batch.stream().map(Refused::generation).toArray()))
                    .param("attempts", new SqlArrayValue("int4", batch.stream().map(Refused::attempts).toArray()))
                    .param("errors", new SqlArrayValue("text", batch.stream().map(RefusedRecords::error).toArray()))
                    .param("owner", instance.id())
                    .query((rs, row) -> new Failed(rs.getObject("id", UUID.class), rs.getString("queue"),
                            rs.getString("type"), rs.getTimestamp("created_at").toInstant(),
                            rs.getTimestamp("finished_at").toInstant()))
                    .list();
            notifications.notifyEnded(ended.stream().map(Failed::id).toList());
            return ended;
        });
        if (!failed.isEmpty()) {
            log.warn("Failed {} jobs whose record Kafka refused as too large ({}): {}", failed.size(),
                    batch.getFirst().why(), failed.stream().map(Failed::id).toList());
        }
        failed.forEach(job -> metrics.ended(job.queue(), job.type(), JobStatus.FAILED, job.createdAt(),
                job.finishedAt()));
    }

    private static String error(Refused job) {
        return Json.write(new JobError(RECORD_TOO_LARGE, "Kafka refused the job's record: " + job.why()
                + " It is not published again: give the job a smaller payload, or raise the api producer's "
                + "max.request.size and the broker's message.max.bytes.", false));
    }

    @Override
    public void start() {
        refused.start();
    }

    @Override
    public void stop() {
        refused.stop();
    }

    @Override
    public boolean isRunning() {
        return refused.isRunning();
    }

    /** Stops after the dispatcher, whose last refusals it writes. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 16384;
    }
}
