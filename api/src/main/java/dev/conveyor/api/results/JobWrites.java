package dev.conveyor.api.results;

import dev.conveyor.api.job.JobRepository;
import dev.conveyor.api.metrics.JobFacts;
import dev.conveyor.api.wakeup.JobWaiters;
import dev.conveyor.api.workers.LiveWorkers;
import dev.conveyor.common.Instants;
import dev.conveyor.common.JobStatus;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Predicate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.SqlArrayValue;
import org.springframework.stereotype.Repository;

/**
 * Reads jobs under their row locks for the {@link JobLifecycle}, and writes what it decided: many jobs per
 * statement, each guarded by the state it was decided on.
 *
 * <p>Rows are locked in id order, in a statement of their own, like every batched update on the job path (see
 * {@code JobLocks}): the common order means two batches never deadlock, and the separate statement means the
 * update reads the rows as they are once locked.
 */
@Repository
class JobWrites {

    private static final String STATE_COLUMNS = """
            id, status, attempts, generation, max_attempts, initial_max_attempts, uncharged_attempts, lost_attempts,
            cancel_requested_at IS NOT NULL AS cancel_requested, hand_backs""";

    private static final String LOCK = "SELECT " + STATE_COLUMNS + ", " + JobFacts.COLUMNS
            + " FROM jobs WHERE id = ANY(:ids::uuid[]) ORDER BY id FOR UPDATE";

    /**
     * A start names the attempt's worker, or none: the previous attempt's worker, left in place, would be taken for
     * this attempt's by the rescuer, which loses the attempts of a worker gone (the reason for many a new attempt) at
     * once, while they run. An attempt whose worker is not known is rescued past its deadline.
     */
    private static final String WRITE = """
            UPDATE jobs j SET
                status = v.status,
                attempts = v.attempts,
                uncharged_attempts = v.uncharged,
                lost_attempts = v.lost,
                hand_backs = v.hand_backs,
                worker_id = CASE WHEN v.started_at IS NULL THEN j.worker_id ELSE v.worker_id END,
                started_at = coalesce(v.started_at, j.started_at),
                start_recorded_at = CASE WHEN v.started_at IS NULL THEN j.start_recorded_at ELSE now() END,
                finished_at = v.finished_at,
                result = v.result::jsonb,
                error = coalesce(v.error::jsonb, j.error),
                progress = CASE WHEN v.sets_progress THEN v.progress::jsonb ELSE j.progress END,
                run_at = coalesce(now() + (v.run_at - CAST(:writtenAt AS timestamptz)), j.run_at),
                dispatched_at = CASE WHEN v.redispatch THEN NULL ELSE j.dispatched_at END,
                dispatch_lease_until = CASE WHEN v.redispatch THEN NULL ELSE j.dispatch_lease_until END,
                record_partition = CASE WHEN v.redispatch THEN NULL ELSE j.record_partition END,
                record_offset = CASE WHEN v.redispatch THEN NULL ELSE j.record_offset END,
                updated_at = now()
            FROM unnest(:ids::uuid[], :fromStatus::text[], :fromAttempts::int[], :generation::int[],
                        :status::text[], :attempts::int[], :uncharged::int[], :lost::int[], :workerId::text[],
                        :startedAt::timestamptz[], :finishedAt::timestamptz[], :result::text[], :error::text[],
                        :setsProgress::boolean[], :progress::text[], :runAt::timestamptz[], :redispatch::boolean[],
                        :handed::boolean[], :handBacks::int[])
                 AS v(id, from_status, from_attempts, generation, status, attempts, uncharged, lost, worker_id,
                      started_at, finished_at, result, error, sets_progress, progress, run_at, redispatch, handed,
                      hand_backs)
            WHERE j.id = v.id AND j.status = v.from_status AND j.attempts = v.from_attempts
              AND j.generation = v.generation
            RETURNING j.id AS written_id, v.handed""";

    /** {@link #WRITE}, also answering the rows to hand over. */
    private static final String WRITE_HANDING = WRITE + ", " + handedColumns();

    /**
     * RUNNING attempts of workers that are not alive: of a worker known to be gone (heard, then silent), whenever
     * their start was applied; of another (perhaps a new worker not heard yet), once unchanged for the given time;
     * locked.
     */
    private static final String SILENT_WORKERS = "SELECT worker_id, " + STATE_COLUMNS + """
             FROM jobs
            WHERE status = 'RUNNING' AND NOT (worker_id = ANY(:alive::text[]))
              AND (worker_id = ANY(:gone::text[]) OR updated_at < now() - make_interval(secs => :silentSeconds))
              AND (:anyId OR id = ANY(CAST(:ids AS uuid[])))
            ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED
            """;

    /**
     * RUNNING attempts under a live worker id that started before the process now under it (a restart: they are a
     * gone process's), silent since at least the given time; locked. Both starts come from the worker's clock. The
     * bound on the latest of those processes' starts lets the index of running attempts ({@code started_at}) read
     * only the attempts older than it: none, unless a worker has just restarted (a lookup per attempt in the
     * arrays alone made the planner walk every running attempt in id order, 26-41 ms per pass with 20,000 running
     * against 0.1-0.3 ms).
     */
    private static final String RESTARTED_WORKERS = "SELECT worker_id, " + STATE_COLUMNS + """
             FROM jobs
            WHERE status = 'RUNNING' AND started_at < :latest::timestamptz
              AND started_at < (:since::timestamptz[])[array_position(:restarted::text[], worker_id)]
              AND updated_at < now() - make_interval(secs => :silentSeconds)
              AND (:anyId OR id = ANY(CAST(:ids AS uuid[])))
            ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED
            """;

    /**
     * RUNNING attempts that should have reported long ago (workers interrupt and report at the deadline); locked. The
     * deadline is counted from when the start was recorded, on the database's clock: the start's own time is the
     * worker's clock, which may be minutes off.
     */
    private static final String PAST_DEADLINE = "SELECT worker_id, " + STATE_COLUMNS + """
             FROM jobs
            WHERE status = 'RUNNING'
              AND coalesce(start_recorded_at, started_at)
                  < now() - make_interval(secs => timeout_seconds + :graceSeconds)
              AND (:anyId OR id = ANY(CAST(:ids AS uuid[])))
            ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED
            """;

    /**
     * The job's columns as {@link JobRepository#JOB} reads them, and its tenant, for the rows to hand over; nulls for
     * the others, so that a batch of a thousand ends does not send a thousand payloads back.
     */
    private static String handedColumns() {
        var columns = new ArrayList<String>();
        for (var column : JobRepository.COLUMNS) {
            columns.add("CASE WHEN v.handed THEN j." + column + " END AS " + column);
        }
        columns.add("CASE WHEN v.handed THEN j.tenant END AS job_tenant");
        return String.join(", ", columns);
    }

    /** A job written by {@link #write(List, Predicate)}, and the job as written if it was to be handed over. */
    record Written(UUID id, JobWaiters.Ended ended) {
    }

    /** A running attempt, and the worker that runs it. */
    record Running(JobState state, String workerId) {
    }

    private final JdbcClient jdbc;
    private final Clock clock;

    JobWrites(JdbcClient jdbc, Clock clock) {
        this.jdbc = jdbc;
        this.clock = clock;
    }

    /**
     * Locks the jobs that exist among {@code ids} (call inside the writing transaction) and answers their state; puts
     * what the metrics need of each ({@link JobFacts}) in {@code facts}.
     */
    Map<UUID, JobState> lock(Collection<UUID> ids, Map<UUID, JobFacts> facts) {
        var states = new LinkedHashMap<UUID, JobState>();
        jdbc.sql(LOCK).param("ids", new SqlArrayValue("uuid", ids.toArray()))
                .query((rs, n) -> {
                    var state = state(rs);
                    facts.put(state.id(), JobFacts.read(rs));
                    return state;
                })
                .list()
                .forEach(state -> states.put(state.id(), state));
        return states;
    }

    /**
     * Locks up to {@code limit} attempts that no process in {@code alive} runs: their worker is known to be gone, or
     * is not alive and they have not changed for {@code silentFor}, or it was restarted after they started and they
     * have not changed for that long; among {@code ids} only, unless that is null.
     */
    List<Running> lockSilent(LiveWorkers.Alive alive, Duration silentFor, Collection<UUID> ids, int limit) {
        var silentSeconds = silentFor.toMillis() / 1000.0;
        var lost = new ArrayList<>(among(jdbc.sql(SILENT_WORKERS)
                .param("alive", new SqlArrayValue("text", alive.ids().toArray()))
                .param("gone", new SqlArrayValue("text", alive.gone().toArray()))
                .param("silentSeconds", silentSeconds).param("limit", limit), ids)
                .query((rs, n) -> new Running(state(rs), rs.getString("worker_id"))).list());
        if (alive.startedAt().isEmpty() || lost.size() >= limit) {
            return lost;
        }
        var restarted = alive.startedAt().keySet().toArray(String[]::new);
        var since = Arrays.stream(restarted).map(id -> text(alive.startedAt().get(id))).toArray();
        var latest = alive.startedAt().values().stream().max(Instant::compareTo).orElseThrow();
        lost.addAll(among(jdbc.sql(RESTARTED_WORKERS)
                .param("restarted", new SqlArrayValue("text", (Object[]) restarted))
                .param("since", new SqlArrayValue("text", since))
                .param("latest", text(latest))
                .param("silentSeconds", silentSeconds).param("limit", limit - lost.size()), ids)
                .query((rs, n) -> new Running(state(rs), rs.getString("worker_id"))).list());
        return lost;
    }

    /** Locks up to {@code limit} attempts still running {@code grace} past their deadline; among {@code ids}, if given. */
    List<Running> lockPastDeadline(Duration grace, Collection<UUID> ids, int limit) {
        return among(jdbc.sql(PAST_DEADLINE).param("graceSeconds", grace.toMillis() / 1000.0).param("limit", limit),
                ids)
                .query((rs, n) -> new Running(state(rs), rs.getString("worker_id"))).list();
    }

    private static JdbcClient.StatementSpec among(JdbcClient.StatementSpec statement, Collection<UUID> ids) {
        return statement.param("anyId", ids == null)
                .param("ids", new SqlArrayValue("uuid", ids == null ? new Object[0] : ids.toArray()));
    }

    private static JobState state(ResultSet rs) throws SQLException {
        return new JobState(rs.getObject("id", UUID.class), JobStatus.valueOf(rs.getString("status")),
                rs.getInt("attempts"), rs.getInt("generation"), rs.getInt("max_attempts"),
                rs.getInt("initial_max_attempts"), rs.getInt("uncharged_attempts"), rs.getInt("lost_attempts"),
                rs.getBoolean("cancel_requested"), rs.getInt("hand_backs"));
    }

    /**
     * Writes the updates that change something; answers the ids written. Under the locks taken by {@link #lock},
     * every guard holds, so the caller can treat a missing id as a bug.
     */
    List<UUID> write(List<JobUpdate> updates) {
        return write(updates, id -> false).stream().map(Written::id).toList();
    }

    /**
     * Writes as {@link #write(List)} does, and answers the rows of the jobs that {@code handOver} names as they were
     * written (to answer their long-polls without reading them again).
     */
    List<Written> write(List<JobUpdate> updates, Predicate<UUID> handOver) {
        var changes = updates.stream().filter(JobUpdate::changes).toList();
        if (changes.isEmpty()) {
            return List.of();
        }
        var written = new ArrayList<Written>(changes.size());
        var handed = changes.stream().map(u -> handOver.test(u.to().id())).toArray(Boolean[]::new);
        var handing = Arrays.asList(handed).contains(true);
        // with nothing to hand over (a batch of ends nobody waits for here), not a column more per row
        jdbc.sql(handing ? WRITE_HANDING : WRITE)
                .param("ids", array("uuid", changes, u -> u.from().id()))
                .param("fromStatus", array("text", changes, u -> u.from().status().name()))
                .param("fromAttempts", array("int4", changes, u -> u.from().attempts()))
                .param("generation", array("int4", changes, u -> u.from().generation()))
                .param("status", array("text", changes, u -> u.to().status().name()))
                .param("attempts", array("int4", changes, u -> u.to().attempts()))
                .param("uncharged", array("int4", changes, u -> u.to().unchargedAttempts()))
                .param("lost", array("int4", changes, u -> u.to().lostAttempts()))
                .param("handBacks", array("int4", changes, u -> u.to().handBacks()))
                .param("workerId", array("text", changes, JobUpdate::workerId))
                .param("startedAt", array("text", changes, u -> text(u.startedAt())))
                .param("finishedAt", array("text", changes, u -> text(u.finishedAt())))
                .param("result", array("text", changes, JobUpdate::result))
                .param("error", array("text", changes, JobUpdate::error))
                .param("setsProgress", array("bool", changes, JobUpdate::setsProgress))
                .param("progress", array("text", changes, JobUpdate::progress))
                .param("runAt", array("text", changes, u -> text(u.runAt())))
                // a retry is due its delay from now by the database's clock, which the poller's "due" reads: the
                // api's own clock may be off (set a year ahead, a retry waited a year)
                .param("writtenAt", text(clock.instant()))
                .param("redispatch", array("bool", changes, JobUpdate::redispatch))
                .param("handed", new SqlArrayValue("bool", (Object[]) handed))
                .query((rs, n) -> written.add(new Written(rs.getObject("written_id", UUID.class),
                        handing && rs.getBoolean("handed")
                                ? new JobWaiters.Ended(JobRepository.JOB.mapRow(rs, n), rs.getString("job_tenant"))
                                : null)))
                .list();
        return written;
    }

    private static String text(Instant value) {
        return value == null ? null : Instants.format(value);
    }

    private static <T> SqlArrayValue array(String type, List<JobUpdate> updates, Function<JobUpdate, T> field) {
        return new SqlArrayValue(type, updates.stream().map(field).toArray());
    }
}
