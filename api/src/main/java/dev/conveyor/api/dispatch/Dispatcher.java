package dev.conveyor.api.dispatch;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.job.Job;
import dev.conveyor.api.metrics.JobMetrics;
import dev.conveyor.api.tracing.JobTracing;
import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import dev.conveyor.common.kafka.QueueTopics;
import dev.conveyor.common.message.JobDispatch;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * Publishes due jobs to their queue's topic and, once Kafka has them, records that in batches. A job that fails
 * to publish keeps no mark and gives up its lease ({@link LeaseReleases}), so the {@link DuePoller} publishes it
 * again at its next look; one whose record Kafka refuses as too large fails instead ({@link RefusedRecords}).
 */
@Component
public class Dispatcher implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

    private final KafkaTemplate<String, String> kafka;
    private final QueueTopics queues;
    private final DispatchMarks marks;
    private final LeaseReleases releases;
    private final RefusedRecords refused;
    private final Clock clock;
    private final PublishWindow window;
    private final JobMetrics jobMetrics;
    private final JobTracing tracing;
    private final TenantWindows windows;
    // Publishing can block (topic creation, Kafka unreachable): never on the thread that answers a request.
    private final ExecutorService publishers = Executors.newVirtualThreadPerTaskExecutor();
    // publications failed since the last one Kafka took: a Kafka outage is one warning as it begins and one line as
    // it ends, not a line per job (thousands a minute under load)
    private final AtomicLong failedInARow = new AtomicLong();
    private volatile boolean running;

    Dispatcher(KafkaTemplate<String, String> kafka, QueueTopics queues, DispatchMarks marks, LeaseReleases releases,
            RefusedRecords refused, Clock clock, ApiProperties properties, JobMetrics jobMetrics, JobTracing tracing,
            TenantWindows windows) {
        this.windows = windows;
        this.kafka = kafka;
        this.releases = releases;
        this.refused = refused;
        this.queues = queues;
        this.marks = marks;
        this.clock = clock;
        this.jobMetrics = jobMetrics;
        this.tracing = tracing;
        this.window = PublishWindow.of(kafka.getProducerFactory().getConfigurationProperties(),
                properties.dispatch());
        RecordLimit.check(kafka.getProducerFactory().getConfigurationProperties(), properties.maxPayloadBytes());
    }

    /**
     * One attempt to hand to the workers; {@code attempts} counts the attempts started so far, {@code generation}
     * the explicit retries, {@code handBacks} the times workers gave the job back unstarted since the last retry.
     */
    public record Item(UUID id, String tenant, String type, String queue, int attempts, int maxAttempts,
            int timeoutSeconds, JsonNode payload, int generation, int handBacks) {

        /** An attempt of a job never given back. */
        public Item(UUID id, String tenant, String type, String queue, int attempts, int maxAttempts,
                int timeoutSeconds, JsonNode payload, int generation) {
            this(id, tenant, type, queue, attempts, maxAttempts, timeoutSeconds, payload, generation, 0);
        }

        /** A job just submitted or retried: never given back since. */
        public static Item of(Job job, String tenant, int generation) {
            return new Item(job.id(), tenant, job.type(), job.queue(), job.attempts(), job.maxAttempts(),
                    job.timeoutSeconds(), job.payload(), generation, 0);
        }
    }

    /** Publishes in the background; returns at once. Call it right after taking the jobs (with their lease). */
    public void publish(List<Item> items) {
        publish(items, System.nanoTime());
    }

    /**
     * Publishes in the background jobs whose leases were taken at {@code takenAt} ({@link System#nanoTime()}) or
     * later; returns at once.
     */
    void publish(List<Item> items, long takenAt) {
        var sendBefore = takenAt + window.sendWithin().toNanos();
        publishers.execute(() -> publishNow(items, sendBefore));
    }

    /** How long after its lease was taken a job's publication may still begin ({@link PublishWindow}). */
    Duration sendWithin() {
        return window.sendWithin();
    }

    private void publishNow(List<Item> items, long sendBefore) {
        var now = clock.instant();
        // queues whose topic Kafka could not be asked about: their other jobs here fail the same way, at once
        Map<String, RuntimeException> unreachable = null;
        for (var i = 0; i < items.size(); i++) {
            var item = items.get(i);
            try {
                var refusedBefore = unreachable == null ? null : unreachable.get(item.queue());
                if (refusedBefore != null) {
                    failed(item, refusedBefore);
                    continue;
                }
                try {
                    queues.ensure(item.queue());
                } catch (QueueTopics.KafkaAdminException e) {
                    if (unreachable == null) {
                        unreachable = new HashMap<>();
                    }
                    unreachable.put(item.queue(), e);
                    throw e;
                }
                if (System.nanoTime() - sendBefore > 0) {
                    // Sends that blocked (Kafka unreachable, a topic being created) used up the lease's margin: a
                    // send begun now might still be in the producer when the lease ends and the poller publishes.
                    log.warn("Left {} jobs unpublished because their dispatch lease is nearly over; the poller "
                            + "publishes them again", items.size() - i);
                    items.subList(i, items.size()).forEach(this::unpublished);
                    return;
                }
                var message = new JobDispatch(JobDispatch.VERSION, item.id(), item.type(), item.queue(),
                        item.attempts() + 1, item.maxAttempts(), item.timeoutSeconds(), item.payload(), now,
                        item.generation(), item.handBacks());
                var topic = Topics.jobs(item.queue());
                kafka.send(tracing.jobRecord(topic, partition(item, topic), item.id(), Json.write(message)))
                        .whenComplete((sent, failure) -> {
                            if (failure == null) {
                                var record = sent.getRecordMetadata();
                                marks.add(item.id(), item.generation(), item.attempts(), item.handBacks(),
                                        record.partition(),
                                        record.offset());
                                jobMetrics.dispatched(item.queue());
                                published();
                            } else {
                                failed(item, failure);
                            }
                        });
            } catch (RuntimeException e) {
                failed(item, e);
            }
        }
    }

    private void failed(Item item, Throwable failure) {
        var cause = NestedExceptionUtils.getMostSpecificCause(failure);
        if (cause instanceof RecordTooLargeException) {
            // refused for what it is: sent again, it is refused again, for ever
            refused.tooLarge(item, cause.getMessage());
            windows.settled(item.id());
            return;
        }
        if (failedInARow.getAndIncrement() == 0) {
            log.warn("Could not publish job {} (the poller publishes it again; jobs that fail to publish after it are "
                    + "counted, not logged, until Kafka takes one again): {}", item.id(),
                    cause.getMessage());
        }
        unpublished(item);
    }

    private void published() {
        if (failedInARow.get() != 0) {
            var failed = failedInARow.getAndSet(0);
            if (failed > 0) {
                log.info("Kafka takes jobs again; {} publications had failed (the poller publishes those jobs again)",
                        failed);
            }
        }
    }

    /**
     * The partition of an attempt's record: the first dispatch's is its key's (the job id's, as Kafka's producer
     * picks it); each later dispatch's (a later attempt, or the same one after a hand-back) is the next partition
     * after the dispatch before, so that a job given back (by a
     * worker without its handler, by a worker stopping) or rescued from a dead worker is offered to other consumers.
     * While a share group has no more members than partitions, Kafka gives each partition to one member, and a record
     * keyed like the one before went back to the same worker each time: a job that only some of a queue's workers
     * can run failed after 20 hand-backs whenever its key's partition belonged to one of the others.
     */
    private Integer partition(Item item, String topic) {
        var dispatches = (long) item.attempts() + item.handBacks();
        if (dispatches == 0) {
            return null; // the key's: most jobs, and Kafka's partitioner computes it anyway
        }
        var partitions = kafka.partitionsFor(topic).size();
        if (partitions == 0) {
            return null; // no metadata yet: the producer waits for it and picks the key's
        }
        var key = Utils.toPositive(Utils.murmur2(item.id().toString().getBytes(StandardCharsets.UTF_8)));
        return (int) ((key + dispatches) % partitions);
    }

    private void unpublished(Item item) {
        releases.release(item);
        windows.settled(item.id());
    }

    /**
     * A worker's event of the job's attempt {@code attempt} of generation {@code generation} has been read: its
     * dispatch mark, if this api still holds it, need not be written (see {@link DispatchMarks}). {@code handBacks}:
     * the dispatch's, when the worker gave the job back unstarted; null for any other event.
     */
    public void settled(UUID id, int generation, int attempt, Integer handBacks) {
        marks.settled(id, generation, attempt, handBacks);
        windows.settled(id);
    }

    @Override
    public void start() {
        running = true;
    }

    /** Lets publications in progress finish before the producer closes. */
    @Override
    public void stop() {
        running = false;
        publishers.shutdown();
        try {
            publishers.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        kafka.flush();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 8192;
    }
}
