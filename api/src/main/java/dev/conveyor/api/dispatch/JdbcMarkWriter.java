package dev.conveyor.api.dispatch;

import java.util.HashMap;
import java.util.List;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.SqlArrayValue;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Writes dispatch marks, many per statement. A mark only applies while the job still waits for the attempt that
 * was published, of the generation that was published, so a late mark never hides a retry that is due, nor stands for
 * the record of a job an operator retried since (a new generation, whose attempts go on from the same count when
 * none had started: cancelled while queued), nor a dispatch given back unstarted for the one after it (the same
 * attempt, one more hand-back).
 *
 * <p>Which jobs still wait is read from the rows as they are locked (by primary key, in id order as
 * {@link dev.conveyor.api.job.JobLocks} locks), and the update then names those rows by id alone. Written as one
 * update with the guard in its {@code WHERE}, the statement let the planner match the guard to
 * {@code jobs_due_idx}: with statistics taken while hardly any job was due (a fresh system, until autovacuum analyzes
 * again), it took that index for one row and visited every job on Kafka and not yet started for each mark, up to 1.7
 * s per statement with two api instances (W1's first-run stall). By id, a mark costs the same whatever the
 * statistics say.
 */
@Component
class JdbcMarkWriter implements DispatchMarks.Writer {

    static final String LOCK = """
            SELECT id, generation, attempts, hand_backs, status = 'QUEUED' AND dispatched_at IS NULL AS waiting
            FROM jobs WHERE id = ANY(:ids::uuid[]) ORDER BY id FOR UPDATE
            """;

    static final String MARK = """
            UPDATE jobs j SET dispatched_at = now(), record_partition = v.partition, record_offset = v.record_offset
            FROM unnest(:ids::uuid[], :partitions::int[], :offsets::int8[]) AS v(id, partition, record_offset)
            WHERE j.id = v.id
            """;

    private final JdbcClient jdbc;
    private final TransactionTemplate transaction;

    JdbcMarkWriter(JdbcClient jdbc, TransactionTemplate transaction) {
        this.jdbc = jdbc;
        this.transaction = transaction;
    }

    @Override
    public void write(List<DispatchMark> marks) {
        transaction.executeWithoutResult(status -> {
            // the attempt each locked job waits for; a job that started, ended or was marked waits for none
            var waitingFor = new HashMap<UUID, Attempt>();
            jdbc.sql(LOCK).param("ids", new SqlArrayValue("uuid", marks.stream().map(DispatchMark::id).toArray()))
                    .query(rs -> {
                        if (rs.getBoolean("waiting")) {
                            waitingFor.put(rs.getObject("id", UUID.class),
                                    new Attempt(rs.getInt("generation"), rs.getInt("attempts"),
                                            rs.getInt("hand_backs")));
                        }
                    });
            var due = marks.stream().filter(mark -> new Attempt(mark.generation(), mark.attempts(), mark.handBacks())
                    .equals(waitingFor.get(mark.id()))).toList();
            if (due.isEmpty()) {
                return;
            }
            jdbc.sql(MARK)
                    .param("ids", new SqlArrayValue("uuid", due.stream().map(DispatchMark::id).toArray()))
                    .param("partitions", new SqlArrayValue("int4", due.stream().map(DispatchMark::partition).toArray()))
                    .param("offsets", new SqlArrayValue("int8", due.stream().map(DispatchMark::offset).toArray()))
                    .update();
        });
    }

    private record Attempt(int generation, int attempts, int handBacks) {
    }
}
