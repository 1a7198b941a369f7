package dev.conveyor.worker.metrics;

import dev.conveyor.common.metrics.BoundedValues;
import dev.conveyor.common.metrics.JobTimeBuckets;
import dev.conveyor.common.metrics.PairCache;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.springframework.stereotype.Component;

/**
 * The worker's per-job meters, made once per (queue, type) and kept: attempts started, attempts in flight, and how
 * long attempts ran, by outcome; and the jobs it got and did not run, by why. Queues, types and failure codes come from users, so each tag takes at most
 * {@link #MAX_TAG_VALUES} distinct values (failure codes {@link #MAX_OUTCOMES}); the rest count as "other".
 */
@Component
public class WorkerMetrics {

    /** Distinct queues, and distinct job types, that get series of their own. */
    public static final int MAX_TAG_VALUES = 200;
    /** Distinct outcomes (SUCCEEDED and failure codes) that get series of their own. */
    public static final int MAX_OUTCOMES = 50;

    private final MeterRegistry meters;
    private final BoundedValues queues = new BoundedValues(MAX_TAG_VALUES);
    private final BoundedValues types = new BoundedValues(MAX_TAG_VALUES);
    private final BoundedValues outcomes = new BoundedValues(MAX_OUTCOMES);
    private final PairCache<AttemptMeters> attempts = new PairCache<>(AttemptMeters::new);
    private final Map<NotRun, Counter> released = new EnumMap<>(NotRun.class);
    private final Map<NotRun, Counter> givenBack = new EnumMap<>(NotRun.class);

    /** Why the worker did not run a job it got: the {@code reason} tag of the two counters below. */
    public enum NotRun { NO_ROOM, STOPPING, NO_HANDLER }

    public WorkerMetrics(MeterRegistry meters) {
        this.meters = meters;
        for (var reason : NotRun.values()) {
            var tag = reason.name().toLowerCase(Locale.ROOT);
            released.put(reason, Counter.builder("conveyor.worker.records.released")
                    .description("job records this worker gave back to Kafka untaken (each uses one of the "
                            + "deliveries Kafka allows a record)").tag("reason", tag).register(meters));
            givenBack.put(reason, Counter.builder("conveyor.worker.jobs.given.back")
                    .description("jobs this worker handed back to the api without running them (the api "
                            + "dispatches the same attempt again)").tag("reason", tag).register(meters));
        }
    }

    /**
     * A job this worker did not run: handed back to the api ({@code acknowledge} ACCEPT) or its record given back to
     * Kafka; answers {@code acknowledge}.
     */
    public AcknowledgeType notRun(NotRun reason, AcknowledgeType acknowledge) {
        (acknowledge == AcknowledgeType.ACCEPT ? givenBack : released).get(reason).increment();
        return acknowledge;
    }

    /** The meters of the attempts of one queue and job type. */
    public AttemptMeters of(String queue, String type) {
        return attempts.get(queues.of(queue), types.of(type));
    }

    /** Meters of one (queue, type); kept for the life of the worker. */
    public final class AttemptMeters {

        private final Tags tags;
        private final Counter started;
        private final AtomicInteger inFlight = new AtomicInteger();
        private final ConcurrentHashMap<String, Timer> ran = new ConcurrentHashMap<>();

        private AttemptMeters(String queue, String type) {
            tags = Tags.of("queue", queue, "type", type);
            started = Counter.builder("conveyor.worker.attempts.started").description("attempts this worker started")
                    .tags(tags).register(meters);
            Gauge.builder("conveyor.worker.jobs.in.flight", inFlight, AtomicInteger::get)
                    .description("attempts this worker has started and not yet ended")
                    .tags(tags).register(meters);
        }

        /** An attempt starts: counted, and in flight until {@link #left()}. */
        public void started() {
            started.increment();
            inFlight.incrementAndGet();
        }

        /** An attempt ran for {@code nanos} and ended with {@code outcome} (SUCCEEDED, or the failure's code). */
        public void ran(String outcome, long nanos) {
            var label = outcomes.of(outcome);
            var timer = ran.get(label);
            if (timer == null) {
                timer = ran.computeIfAbsent(label, key -> Timer.builder("conveyor.worker.attempts")
                        .description("how long attempts ran on this worker, by outcome")
                        .tags(tags).tag("outcome", key)
                        .serviceLevelObjectives(JobTimeBuckets.buckets())
                        .minimumExpectedValue(JobTimeBuckets.smallest())
                        .maximumExpectedValue(JobTimeBuckets.largest())
                        .register(meters));
            }
            timer.record(nanos, TimeUnit.NANOSECONDS);
        }

        /** The attempt is no longer in flight. */
        public void left() {
            inFlight.decrementAndGet();
        }
    }
}
