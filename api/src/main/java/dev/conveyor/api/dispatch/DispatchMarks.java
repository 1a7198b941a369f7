package dev.conveyor.api.dispatch;

import dev.conveyor.api.job.JobLocks;
import dev.conveyor.common.Threads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.SqlArrayValue;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Records that jobs are on Kafka, many per statement. The mark only applies while the job still waits for the
 * attempt that was published, so a late mark never hides a retry that is due.
 */
@Component
class DispatchMarks implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(DispatchMarks.class);
    private static final int BATCH = 1000;

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
    private final BlockingQueue<Mark> marks = new LinkedBlockingQueue<>();
    private volatile boolean running;
    private Thread flusher;

    DispatchMarks(JdbcClient jdbc, TransactionTemplate transaction, JobLocks locks) {
        this.jdbc = jdbc;
        this.transaction = transaction;
        this.locks = locks;
    }

    /** Records that the job's attempt is on Kafka, in the record at {@code partition} and {@code offset}. */
    void add(UUID id, int attempts, int partition, long offset) {
        marks.add(new Mark(id, attempts, partition, offset));
    }

    private void flushLoop() {
        var batch = new ArrayList<Mark>();
        while (running || !marks.isEmpty()) {
            try {
                var first = marks.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            marks.drainTo(batch, BATCH - 1);
            try {
                var ids = batch.stream().map(Mark::id).toList();
                transaction.executeWithoutResult(status -> {
                    locks.lock(ids);
                    jdbc.sql(MARK)
                            .param("ids", new SqlArrayValue("uuid", ids.toArray()))
                            .param("attempts", new SqlArrayValue("int4", batch.stream().map(Mark::attempts).toArray()))
                            .param("partitions", new SqlArrayValue("int4", batch.stream().map(Mark::partition).toArray()))
                            .param("offsets", new SqlArrayValue("int8", batch.stream().map(Mark::offset).toArray()))
                            .update();
                });
            } catch (RuntimeException e) {
                // Unmarked jobs are published again by the poller after their lease: a duplicate, not a loss.
                log.warn("Could not record {} dispatched jobs: {}", batch.size(), e.getMessage());
            }
            batch.clear();
        }
    }

    @Override
    public void start() {
        running = true;
        flusher = Thread.ofVirtual().name("dispatch-marks").start(this::flushLoop);
    }

    @Override
    public void stop() {
        running = false;
        Threads.joinOrInterrupt(flusher, Duration.ofSeconds(5));
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Stops after the dispatcher, so the marks of its last publications are written. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 16384;
    }

    private record Mark(UUID id, int attempts, int partition, long offset) {
    }
}
