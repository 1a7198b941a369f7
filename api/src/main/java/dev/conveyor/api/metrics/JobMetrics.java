package dev.conveyor.api.metrics;

import dev.conveyor.common.JobStatus;
import dev.conveyor.common.metrics.BoundedValues;
import dev.conveyor.common.metrics.PairCache;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The api's per-job meters: jobs submitted, dispatched, started and ended, and how long they waited and lived. Every
 * meter is made once per (queue, type) and kept, so recording costs a few map reads; job types and queues are
 * user-controlled, so each tag takes at most {@link #MAX_TAG_VALUES} distinct values, the rest count as "other".
 */
@Component
public class JobMetrics {

    /** Distinct queues, and distinct job types, that get series of their own. */
    public static final int MAX_TAG_VALUES = 200;

    private final BoundedValues queues = new BoundedValues(MAX_TAG_VALUES);
    private final BoundedValues types = new BoundedValues(MAX_TAG_VALUES);
    private final PairCache<Counter> submitted;
    private final PairCache<Started> started;
    private final PairCache<Map<JobStatus, Ended>> ended;
    private final PairCache<Counter> dispatched;

    private record Started(Counter count, Timer queueWait) {
    }

    private record Ended(Counter count, Timer submitToEnd) {
    }

    public JobMetrics(MeterRegistry meters) {
        submitted = new PairCache<>((queue, type) -> Counter.builder("conveyor.jobs.submitted")
                .description("jobs accepted (stored), by queue and type").tags("queue", queue, "type", type)
                .register(meters));
        dispatched = new PairCache<>((queue, unused) -> Counter.builder("conveyor.jobs.dispatched")
                .description("job records Kafka took from this api (a job's attempts, and any second record)")
                .tags("queue", queue).register(meters));
        started = new PairCache<>((queue, type) -> new Started(
                Counter.builder("conveyor.jobs.started").description("attempts started, as recorded by the api")
                        .tags("queue", queue, "type", type).register(meters),
                Histograms.timer("conveyor.jobs.queue.wait", "from due (created, or retry time) to started")
                        .tags("queue", queue, "type", type).register(meters)));
        ended = new PairCache<>((queue, type) -> {
            var byStatus = new EnumMap<JobStatus, Ended>(JobStatus.class);
            for (var status : JobStatus.values()) {
                if (status.isTerminal()) {
                    var tags = new String[] {"queue", queue, "type", type, "status", status.name()};
                    byStatus.put(status, new Ended(
                            Counter.builder("conveyor.jobs.ended").description("jobs that reached a final status")
                                    .tags(tags).register(meters),
                            Histograms.timer("conveyor.jobs.submit.to.end", "from submitted to final status")
                                    .tags(tags).register(meters)));
                }
            }
            return byStatus;
        });
    }

    /** A job was stored. */
    public void submitted(String queue, String type) {
        submitted.get(queues.of(queue), types.of(type)).increment();
    }

    /** Kafka took a job's record. */
    public void dispatched(String queue) {
        dispatched.get(queues.of(queue), "").increment();
    }

    /**
     * Collects the moves of one batch of job changes and records them once its transaction commits (now, outside a
     * transaction), so a batch that is rolled back and applied again is counted once.
     */
    public Moves afterCommit() {
        return new Moves();
    }

    /** The job changes of one batch, recorded together after the commit. */
    public final class Moves implements TransactionSynchronization {

        private final List<Move> moves = new ArrayList<>();

        private record Move(JobFacts job, JobStatus to, Instant startedAt, Instant finishedAt) {
        }

        /**
         * A job's change: {@code startedAt} is set when it includes a start, {@code finishedAt} when {@code to} is
         * final. Jobs without facts (not read) are skipped.
         */
        public void moved(JobFacts job, JobStatus from, JobStatus to, Instant startedAt, Instant finishedAt) {
            if (job == null || (startedAt == null && (from == to || !to.isTerminal()))) {
                return;
            }
            if (moves.isEmpty() && TransactionSynchronizationManager.isSynchronizationActive()) {
                TransactionSynchronizationManager.registerSynchronization(this);
            }
            moves.add(new Move(job, from == to ? null : to, startedAt, finishedAt));
            if (!TransactionSynchronizationManager.isSynchronizationActive()) {
                afterCommit();
            }
        }

        @Override
        public void afterCommit() {
            for (var move : moves) {
                record(move);
            }
            moves.clear();
        }

        private void record(Move move) {
            var queue = queues.of(move.job().queue());
            var type = types.of(move.job().type());
            if (move.startedAt() != null) {
                var start = started.get(queue, type);
                start.count().increment();
                start.queueWait().record(positive(move.job().runAt(), move.startedAt()));
            }
            if (move.to() != null && move.to().isTerminal()) {
                ended(move.job().queue(), move.job().type(), move.to(), move.job().createdAt(), move.finishedAt());
            }
        }
    }

    /** A job reached its final {@code status} (a terminal one) at {@code finishedAt} (null: now). */
    public void ended(String queue, String type, JobStatus status, Instant createdAt, Instant finishedAt) {
        var end = ended.get(queues.of(queue), types.of(type)).get(status);
        end.count().increment();
        end.submitToEnd().record(positive(createdAt, finishedAt != null ? finishedAt : Instant.now()));
    }

    /** Clocks of api and workers differ a little: a start "before" its due time waited zero. */
    private static Duration positive(Instant from, Instant to) {
        var duration = Duration.between(from, to);
        return duration.isNegative() ? Duration.ZERO : duration;
    }
}
