package dev.conveyor.api.dispatch;

import dev.conveyor.api.job.JobLocks;
import java.util.List;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.SqlArrayValue;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Writes dispatch marks, many per statement. A mark only applies while the job still waits for the attempt that
 * was published, so a late mark never hides a retry that is due.
 */
@Component
class JdbcMarkWriter implements DispatchMarks.Writer {

    private static final String MARK = """
            UPDATE jobs j SET dispatched_at = now(), record_partition = v.partition, record_offset = v.record_offset
            FROM unnest(:ids::uuid[], :attempts::int[], :partitions::int[], :offsets::int8[])
                AS v(id, attempts, partition, record_offset)
            WHERE j.id = v.id AND j.attempts = v.attempts AND j.dispatched_at IS NULL
              AND j.status = 'QUEUED'
            """;

    private final JdbcClient jdbc;
    private final TransactionTemplate transaction;
    private final JobLocks locks;

    JdbcMarkWriter(JdbcClient jdbc, TransactionTemplate transaction, JobLocks locks) {
        this.jdbc = jdbc;
        this.transaction = transaction;
        this.locks = locks;
    }

    @Override
    public void write(List<DispatchMark> marks) {
        transaction.executeWithoutResult(status -> {
            locks.lock(marks.stream().map(DispatchMark::id).toList());
            jdbc.sql(MARK)
                    .param("ids", new SqlArrayValue("uuid", marks.stream().map(DispatchMark::id).toArray()))
                    .param("attempts", array("int4", marks.stream().map(DispatchMark::attempts).toArray()))
                    .param("partitions", array("int4", marks.stream().map(DispatchMark::partition).toArray()))
                    .param("offsets", array("int8", marks.stream().map(DispatchMark::offset).toArray()))
                    .update();
        });
    }

    private static SqlArrayValue array(String type, Object[] values) {
        return new SqlArrayValue(type, values);
    }
}
