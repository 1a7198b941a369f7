package dev.conveyor.common.kafka;

import dev.conveyor.common.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure a queue's topic exists and that its share group starts from the earliest offset, so that jobs
 * published before any worker joined are not skipped (a new share group starts at the latest offset).
 * Both the api (before its first publish) and the workers (before subscribing) call it; it is idempotent.
 */
public final class QueueTopics {

    private static final Logger log = LoggerFactory.getLogger(QueueTopics.class);
    /** How long a call to Kafka is waited for (and held by the admin client: no longer). */
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final Admin admin;
    private final int partitions;
    private final short replicationFactor;
    private final Set<String> ready = ConcurrentHashMap.newKeySet();
    /** The last failed attempt per queue, and when it ended ({@link System#nanoTime()}); guarded by this. */
    private final Map<String, Failure> failures = new HashMap<>();

    private record Failure(long at, KafkaAdminException cause) {
    }

    private final Duration timeout;

    public QueueTopics(Admin admin, int partitions, short replicationFactor) {
        this(admin, partitions, replicationFactor, TIMEOUT);
    }

    /** With {@code timeout} for each call to Kafka, instead of 30 s. */
    public QueueTopics(Admin admin, int partitions, short replicationFactor, Duration timeout) {
        this.admin = admin;
        this.partitions = partitions;
        this.replicationFactor = replicationFactor;
        this.timeout = timeout;
    }

    /**
     * Creates the queue's topic if missing and sets its share group to start at the earliest offset. A call that
     * waited while another's attempt for the same queue failed fails with it, without an attempt of its own: each
     * attempt may take up to 30 s when Kafka cannot be reached, and the callers waiting would otherwise make theirs
     * one after another.
     */
    public void ensure(String queue) {
        if (ready.contains(queue)) {
            return;
        }
        var arrived = System.nanoTime();
        synchronized (this) {
            if (ready.contains(queue)) {
                return;
            }
            var failed = failures.get(queue);
            if (failed != null && failed.at() - arrived > 0) {
                throw new KafkaAdminException("the attempt made meanwhile failed: " + failed.cause().getMessage(),
                        failed.cause());
            }
            try {
                createTopic(Topics.jobs(queue), partitions, Map.of());
                var group = new ConfigResource(ConfigResource.Type.GROUP, Topics.shareGroup(queue));
                var earliest = new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"),
                        AlterConfigOp.OpType.SET);
                await(admin.incrementalAlterConfigs(Map.of(group, List.of(earliest)),
                        new AlterConfigsOptions().timeoutMs(timeoutMs())).all());
            } catch (KafkaAdminException e) {
                failures.put(queue, new Failure(System.nanoTime(), e));
                throw e;
            }
            failures.remove(queue);
            ready.add(queue);
            log.info("Queue '{}' ready: topic {}, share group {} from earliest", queue, Topics.jobs(queue),
                    Topics.shareGroup(queue));
        }
    }

    /** Creates a topic unless it exists already. */
    public void createTopic(String name, int partitionCount, Map<String, String> configs) {
        var topic = new NewTopic(name, partitionCount, replicationFactor).configs(configs);
        try {
            await(admin.createTopics(List.of(topic), new CreateTopicsOptions().timeoutMs(timeoutMs())).all());
        } catch (KafkaAdminException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
    }

    /**
     * Each call's own timeout, as long as it is waited for: without it the admin client holds a call for
     * {@code default.api.timeout.ms} (a minute), whoever still waits, and while Kafka is away every attempt adds one.
     */
    private int timeoutMs() {
        return (int) timeout.toMillis();
    }

    private void await(org.apache.kafka.common.KafkaFuture<Void> future) {
        try {
            future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaAdminException("interrupted", e);
        } catch (ExecutionException e) {
            throw new KafkaAdminException(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new KafkaAdminException("Kafka did not answer within " + timeout.toMillis() + " ms", e);
        }
    }

    /** A Kafka admin call failed; the cause says why. */
    public static final class KafkaAdminException extends RuntimeException {
        KafkaAdminException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
