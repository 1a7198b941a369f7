package dev.conveyor.api.results;

import dev.conveyor.api.job.JobLocks;
import dev.conveyor.api.wakeup.JobNotifications;
import dev.conveyor.common.Json;
import dev.conveyor.common.JobStatus;
import dev.conveyor.common.message.JobEvent;
import dev.conveyor.common.message.JobFinished;
import dev.conveyor.common.message.JobProgress;
import dev.conveyor.common.message.JobStarted;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.SqlArrayValue;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Applies a batch of worker events with one guarded statement. Events of one job in one batch fold into one row
 * (a start and an end make one write). The guard accepts a start only for a newer attempt and an end only for
 * the attempt that is running, so duplicates, replays and stale events change nothing.
 */
@Component
class EventApplier {

    private static final Logger log = LoggerFactory.getLogger(EventApplier.class);

    /** The next status, except that a job whose cancel was asked for gets no further attempt. */
    private static final String NEXT_STATUS = """
            (CASE WHEN v.status = 'SCHEDULED' AND j.cancel_requested_at IS NOT NULL THEN 'CANCELLED'
                  ELSE v.status END)""";

    private static final String APPLY = """
            UPDATE jobs j SET
                status = %1$s,
                attempts = v.attempt,
                worker_id = coalesce(v.worker_id, j.worker_id),
                started_at = coalesce(v.started_at, j.started_at),
                finished_at = CASE WHEN %1$s IN ('SUCCEEDED', 'FAILED', 'CANCELLED') THEN v.finished_at END,
                result = CASE WHEN v.status = 'SUCCEEDED' THEN v.result::jsonb END,
                error = CASE WHEN v.error IS NOT NULL THEN v.error::jsonb
                             WHEN v.started_at IS NOT NULL AND j.status = 'RUNNING' THEN jsonb_build_object(
                                 'code', 'WORKER_LOST', 'retryable', true, 'message',
                                 'the worker running attempt ' || j.attempts || ' stopped before it ended')
                             ELSE j.error END,
                progress = CASE WHEN v.started_at IS NOT NULL THEN NULL ELSE j.progress END,
                run_at = CASE WHEN %1$s = 'SCHEDULED' THEN v.retry_at ELSE j.run_at END,
                dispatched_at = CASE WHEN %1$s = 'SCHEDULED' THEN NULL ELSE j.dispatched_at END,
                dispatch_lease_until = CASE WHEN %1$s = 'SCHEDULED' THEN NULL ELSE j.dispatch_lease_until END,
                updated_at = now()
            FROM unnest(:ids::uuid[], :attempts::int[], :statuses::text[], :workers::text[],
                        :startedAt::timestamptz[], :finishedAt::timestamptz[], :results::text[], :errors::text[],
                        :retryAt::timestamptz[])
                 AS v(id, attempt, status, worker_id, started_at, finished_at, result, error, retry_at)
            WHERE j.id = v.id
              AND j.status IN ('QUEUED', 'RUNNING')
              AND ((v.started_at IS NOT NULL AND j.attempts < v.attempt)
                   OR (v.started_at IS NULL AND j.status = 'RUNNING' AND j.attempts = v.attempt))
            RETURNING j.id, j.status
            """.formatted(NEXT_STATUS);

    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    private static final String STATE = "SELECT id, status, attempts FROM jobs WHERE id = ANY(:ids::uuid[])";

    /** Progress of the attempt that is running; reports of other attempts change nothing. */
    private static final String PROGRESS = """
            UPDATE jobs j SET progress = v.progress::jsonb, updated_at = now()
            FROM unnest(:ids::uuid[], :attempts::int[], :progress::text[]) AS v(id, attempt, progress)
            WHERE j.id = v.id AND j.status = 'RUNNING' AND j.attempts = v.attempt
            """;

    private final JdbcClient jdbc;
    private final TransactionTemplate transaction;
    private final RetryPolicy retryPolicy;
    private final JobNotifications notifications;
    private final Clock clock;
    private final MeterRegistry meters;
    private final JobLocks locks;

    EventApplier(JdbcClient jdbc, TransactionTemplate transaction, RetryPolicy retryPolicy,
            JobNotifications notifications, Clock clock, MeterRegistry meters, JobLocks locks) {
        this.locks = locks;
        this.jdbc = jdbc;
        this.transaction = transaction;
        this.retryPolicy = retryPolicy;
        this.notifications = notifications;
        this.clock = clock;
        this.meters = meters;
    }

    /** Applies the events (JSON texts, in topic order) in one transaction and wakes the waiters of ended jobs. */
    void apply(List<String> events) {
        var folded = fold(events);
        if (folded.rows().isEmpty() && folded.progress().isEmpty()) {
            return;
        }
        // A batch is never dropped: transient failures (the database restarting, a lock conflict) are retried here,
        // with backoff, until the batch is applied; only then does the listener commit the offsets.
        var backoff = Duration.ofMillis(100);
        while (true) {
            try {
                applyOnce(folded);
                return;
            } catch (TransientDataAccessException | DataAccessResourceFailureException e) {
                log.warn("Applying {} events failed (retrying in {} ms): {}", events.size(), backoff.toMillis(),
                        e.getMessage());
                sleep(backoff);
                backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
            }
        }
    }

    private static void sleep(Duration backoff) {
        try {
            Thread.sleep(backoff);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while retrying an event batch", e);
        }
    }

    private void applyOnce(Folded folded) {
        transaction.executeWithoutResult(status -> {
            var ids = new java.util.HashSet<UUID>();
            folded.rows().forEach(r -> ids.add(r.id()));
            folded.progress().forEach(p -> ids.add(p.jobId()));
            locks.lock(ids);
            if (!folded.rows().isEmpty()) {
                applyRows(folded.rows());
            }
            if (!folded.progress().isEmpty()) {
                var progress = folded.progress();
                jdbc.sql(PROGRESS)
                        .param("ids", new SqlArrayValue("uuid", progress.stream().map(JobProgress::jobId).toArray()))
                        .param("attempts", new SqlArrayValue("int4",
                                progress.stream().map(JobProgress::attempt).toArray()))
                        .param("progress", new SqlArrayValue("text", progress.stream().map(EventApplier::progressJson)
                                .toArray()))
                        .update();
            }
        });
    }

    private void applyRows(List<Row> rows) {
        var ended = new ArrayList<UUID>();
        var applied = new java.util.HashSet<UUID>();
        jdbc.sql(APPLY)
                .param("ids", array("uuid", rows, Row::id))
                .param("attempts", array("int4", rows, Row::attempt))
                .param("statuses", array("text", rows, r -> r.status().name()))
                .param("workers", array("text", rows, Row::workerId))
                .param("startedAt", array("text", rows, Row::startedAt))
                .param("finishedAt", array("text", rows, Row::finishedAt))
                .param("results", array("text", rows, Row::result))
                .param("errors", array("text", rows, Row::error))
                .param("retryAt", array("text", rows, Row::retryAt))
                .query((rs, n) -> {
                    var next = JobStatus.valueOf(rs.getString("status"));
                    applied.add(rs.getObject("id", UUID.class));
                    meters.counter("conveyor.jobs.transitions", "status", next.name()).increment();
                    if (next.isTerminal()) {
                        ended.add(rs.getObject("id", UUID.class));
                    }
                    return null;
                })
                .list();
        notifications.notifyEnded(ended);
        if (applied.size() < rows.size()) {
            reportIgnored(rows.stream().filter(r -> !applied.contains(r.id())).toList());
        }
    }

    /**
     * Events that changed nothing are expected (duplicates, stale attempts, jobs cancelled meanwhile); a start of
     * a newer attempt of a job still waiting is not, and is logged so that it can be looked into.
     */
    private void reportIgnored(List<Row> ignored) {
        meters.counter("conveyor.events.ignored").increment(ignored.size());
        var byId = new java.util.HashMap<UUID, Row>();
        ignored.forEach(r -> byId.put(r.id(), r));
        jdbc.sql(STATE).param("ids", array("uuid", ignored, Row::id)).query((rs, n) -> {
            var row = byId.get(rs.getObject("id", UUID.class));
            var status = JobStatus.valueOf(rs.getString("status"));
            if (!status.isTerminal() && row.startedAt() != null && rs.getInt("attempts") < row.attempt()) {
                log.warn("A start of attempt {} of job {} changed nothing, though the job is {} with {} attempts",
                        row.attempt(), row.id(), status, rs.getInt("attempts"));
            }
            return null;
        }).list();
    }

    private static String progressJson(JobProgress p) {
        var json = Json.object();
        json.put("fraction", p.fraction());
        json.put("message", p.message());
        json.put("at", p.at().toString());
        return Json.write(json);
    }

    /** One row per job (its newest start, and the end of that attempt if the batch has it), and last progress. */
    private record Folded(List<Row> rows, List<JobProgress> progress) {
    }

    private Folded fold(List<String> events) {
        var byJob = new LinkedHashMap<UUID, Row>();
        var progress = new LinkedHashMap<UUID, JobProgress>();
        var now = clock.instant();
        for (var text : events) {
            JobEvent event;
            try {
                event = Json.read(text, JobEvent.class);
            } catch (RuntimeException e) {
                log.error("Skipping an unreadable event: {} ({})", text, e.getMessage());
                continue;
            }
            var current = byJob.get(event.jobId());
            switch (event) {
                case JobStarted started -> {
                    if (current == null || started.attempt() > current.attempt()) {
                        byJob.put(started.jobId(), Row.started(started));
                    }
                }
                case JobFinished finished -> {
                    progress.remove(finished.jobId());
                    if (current == null || finished.attempt() > current.attempt()) {
                        byJob.put(finished.jobId(), Row.finished(null, finished, retryPolicy.decide(finished, now)));
                    } else if (finished.attempt() == current.attempt() && current.finishedAt() == null) {
                        byJob.put(finished.jobId(), Row.finished(current, finished,
                                retryPolicy.decide(finished, now)));
                    }
                }
                case JobProgress reported -> progress.put(reported.jobId(), reported);
            }
        }
        return new Folded(List.copyOf(byJob.values()), List.copyOf(progress.values()));
    }

    private static <T> SqlArrayValue array(String type, List<Row> rows, java.util.function.Function<Row, T> field) {
        return new SqlArrayValue(type, rows.stream().map(field).toArray());
    }

    /** The values one job's row gets; null means "leave as it is" for the optional ones. */
    private record Row(UUID id, int attempt, JobStatus status, String workerId, String startedAt,
            String finishedAt, String result, String error, String retryAt) {

        static Row started(JobStarted e) {
            return new Row(e.jobId(), e.attempt(), JobStatus.RUNNING, e.workerId(), e.at().toString(), null, null,
                    null, null);
        }

        static Row finished(Row start, JobFinished e, RetryPolicy.Decision decision) {
            return new Row(e.jobId(), e.attempt(), decision.status(), e.workerId(),
                    start == null ? null : start.startedAt(),
                    e.at().toString(),
                    e.result() == null ? "null" : Json.write(e.result()),
                    e.error() == null ? null : Json.write(e.error()),
                    decision.retryAt() == null ? null : decision.retryAt().toString());
        }
    }
}
