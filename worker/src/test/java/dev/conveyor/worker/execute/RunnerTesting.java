package dev.conveyor.worker.execute;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import dev.conveyor.common.message.JobDispatch;
import dev.conveyor.common.message.JobEvent;
import dev.conveyor.common.message.JobFinished;
import dev.conveyor.common.message.JobProgress;
import dev.conveyor.worker.HttpSettings;
import dev.conveyor.worker.SqlSettings;
import dev.conveyor.worker.WorkerProperties;
import dev.conveyor.worker.metrics.WorkerMetrics;
import dev.conveyor.worker.tracing.JobTracing;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.KafkaException;
import tools.jackson.databind.JsonNode;

/**
 * A {@link JobRunner} without Kafka: the events it sends are kept in a list (each one encoded and decoded as it
 * would travel), the records it takes are built here.
 */
final class RunnerTesting {

    final RecordingEvents events = new RecordingEvents();
    final RunningAttempts attempts = new RunningAttempts();
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    /** The clock of the runner's rate-limited log lines. */
    final AtomicLong nanoTime = new AtomicLong();
    final TypeLimits limits;
    final JobRunner runner;

    RunnerTesting(List<JobHandler> handlers, Map<String, Integer> typeLimits) {
        this(handlers, typeLimits, Duration.ofMillis(100));
    }

    RunnerTesting(List<JobHandler> handlers, Map<String, Integer> typeLimits, Duration startEventAfter) {
        this(handlers, typeLimits, startEventAfter, Duration.ZERO);
    }

    RunnerTesting(List<JobHandler> handlers, Map<String, Integer> typeLimits, Duration startEventAfter,
            Duration maxStartWait) {
        var properties = new WorkerProperties("test-worker", List.of("default"), 1, 10, 1_048_576,
                maxStartWait, 100, null, 1, (short) 1, Duration.ofSeconds(1), Duration.ofSeconds(5), startEventAfter,
                typeLimits, 5, HttpSettings.defaults(), SqlSettings.off());
        limits = new TypeLimits(properties);
        runner = new JobRunner(new HandlerRegistry(handlers), events, attempts, limits, properties,
                Clock.systemUTC(), meters, new WorkerMetrics(meters), JobTracing.off(),
                new DeliveryLimits(properties, groups -> new DeliveryLimits.Read(Map.of(), "not read")),
                nanoTime::get);
    }

    RunnerTesting(JobHandler... handlers) {
        this(List.of(handlers), Map.of());
    }

    /** A handler of type {@code t} that answers what {@code body} does. */
    static JobHandler handler(Function<JobContext, JsonNode> body) {
        return new JobHandler() {
            @Override
            public String type() {
                return "t";
            }

            @Override
            public JsonNode handle(JobContext context) {
                return body.apply(context);
            }
        };
    }

    static JobDispatch dispatch(String type, JsonNode payload, int timeoutSeconds) {
        return new JobDispatch(JobDispatch.VERSION, UUID.randomUUID(), type, "default", 1, 3, timeoutSeconds, payload,
                Instant.now(), 0);
    }

    static ConsumerRecord<String, String> record(String key, String value) {
        return new ConsumerRecord<>("conveyor.jobs.default", 0, 0, key, value);
    }

    static ConsumerRecord<String, String> record(JobDispatch job) {
        return record(job.jobId().toString(), Json.write(job));
    }

    /** Takes the record and runs the rest of its work on a virtual thread, as a consumer does. */
    AcknowledgeType take(ConsumerRecord<String, String> record) throws InterruptedException {
        var taken = runner.take(record);
        if (taken.rest() != null) {
            Thread.ofVirtual().start(taken.rest());
        }
        return taken.acknowledge();
    }

    AcknowledgeType take(JobDispatch job) throws InterruptedException {
        return take(record(job));
    }

    /** An EventPublisher that keeps every event, as the api would read it. */
    static final class RecordingEvents extends EventPublisher {

        final List<String> sent = new CopyOnWriteArrayList<>();

        RecordingEvents() {
            super(null, JobTracing.off());
        }

        /** Starts and progress it matches are refused as KafkaTemplate refuses a send once Kafka is unreachable. */
        volatile Predicate<JobEvent> refuse = event -> false;

        @Override
        void send(JobEvent event) {
            if (refuse.test(event)) {
                throw new KafkaException("Send failed");
            }
            sent.add(Json.write(event));
        }

        /** Events longer than this (encoded) are refused as Kafka refuses records over its size limits. */
        volatile int refuseOver = Integer.MAX_VALUE;

        @Override
        boolean sendAndWait(JobEvent event) {
            var json = encoded(event);
            if (json.length() > refuseOver) {
                throw new TooLarge(json.length() + " characters");
            }
            sent.add(json);
            return true;
        }

        @Override
        boolean sendUntilDelivered(JobEvent event, java.util.function.BooleanSupplier givingUp) {
            return sendAndWait(event);
        }

        List<JobEvent> all() {
            return sent.stream().map(json -> Json.read(json, JobEvent.class)).toList();
        }

        /** The outcome reported for the job, or null while there is none. */
        JobFinished finished(UUID jobId) {
            return all().stream().filter(e -> e instanceof JobFinished && e.jobId().equals(jobId))
                    .map(JobFinished.class::cast).findFirst().orElse(null);
        }

        List<JobProgress> progress(UUID jobId) {
            return all().stream().filter(e -> e instanceof JobProgress && e.jobId().equals(jobId))
                    .map(JobProgress.class::cast).toList();
        }
    }
}
