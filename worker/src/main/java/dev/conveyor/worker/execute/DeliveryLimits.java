package dev.conveyor.worker.execute;

import dev.conveyor.common.Topics;
import dev.conveyor.worker.WorkerProperties;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * How many deliveries Kafka allows a record of each queue before it archives it, as this worker holds them to
 * ({@link JobRunner} hands a job back rather than release its record on the last one). Read from Kafka as the worker
 * starts, and weighed against {@code share-delivery-limit}: unset, Kafka's word is taken, or Kafka's default (5) with
 * a warning when it cannot be read; set, and Kafka says otherwise, the smaller of the two, with a warning (a job
 * handed back early costs a publish; a record released on what was in fact its last delivery is archived, and the
 * api counts a lost attempt). Read again every {@link #READ_EVERY}, so that a limit an operator changes on Kafka is
 * followed within that time without a restart (each change logged once); a limit that cannot be read then stays as
 * it was.
 */
@Component
class DeliveryLimits implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(DeliveryLimits.class);
    /** Kafka's default {@code group.share.delivery.count.limit}. */
    static final int KAFKA_DEFAULT = 5;
    /** The most time the worker's start spends reading the limits. */
    static final Duration READ_WITHIN = Duration.ofSeconds(3);
    /** How often the limits are read again while the worker runs. */
    static final Duration READ_EVERY = Duration.ofMinutes(1);

    /** Where the limits are read from. */
    interface Source {

        /** What Kafka says for these share groups; never throws. */
        Read read(List<String> groups);
    }

    /**
     * @param byGroup per share group, the limit Kafka has for it (groups whose limit could not be read left out)
     * @param problem what went wrong reading, or null
     */
    record Read(Map<String, Integer> byGroup, String problem) {
    }

    /** The limit to hold a queue's records to, and the warning to log about it, or null. */
    record Choice(int limit, String warning) {
    }

    /** The limits of the queues' topics, and the least of them for any other topic. */
    private record Limits(Map<String, Integer> byTopic, int otherwise) {
    }

    private final WorkerProperties properties;
    private final Source kafka;
    private volatile Limits limits;
    private final Thread reader;

    @Autowired
    DeliveryLimits(Admin admin, WorkerProperties properties) {
        this(properties, new DeliveryLimitReader(admin, READ_WITHIN), READ_EVERY);
    }

    /** Read once, and never again (tests call {@link #readAgain()}). */
    DeliveryLimits(WorkerProperties properties, Source kafka) {
        this(properties, kafka, null);
    }

    private DeliveryLimits(WorkerProperties properties, Source kafka, Duration every) {
        this.properties = properties;
        this.kafka = kafka;
        var read = kafka.read(groups());
        var byTopic = new HashMap<String, Integer>();
        var warnings = new LinkedHashMap<String, List<String>>();
        for (var queue : properties.queues()) {
            var choice = choose(properties.shareDeliveryLimit(), read.byGroup().get(Topics.shareGroup(queue)),
                    read.problem());
            byTopic.put(Topics.jobs(queue), choice.limit());
            if (choice.warning() != null) {
                warnings.computeIfAbsent(choice.warning(), warning -> new ArrayList<>()).add(queue);
            }
        }
        warnings.forEach((warning, queues) -> log.warn("{} (queues {})", warning, queues));
        limits = limits(byTopic);
        reader = every == null ? null : Thread.ofVirtual().name("delivery-limits").start(() -> readEvery(every));
    }

    private List<String> groups() {
        return properties.queues().stream().map(Topics::shareGroup).toList();
    }

    private static Limits limits(Map<String, Integer> byTopic) {
        return new Limits(Map.copyOf(byTopic),
                byTopic.values().stream().mapToInt(Integer::intValue).min().orElse(KAFKA_DEFAULT));
    }

    private void readEvery(Duration every) {
        try {
            while (!Thread.currentThread().isInterrupted()) {
                Thread.sleep(every);
                readAgain();
            }
        } catch (InterruptedException e) {
            // the worker stops
        }
    }

    /**
     * Reads Kafka's limits again: a queue whose limit Kafka now says otherwise follows it (by the same rule as at the
     * start), with a line; one whose limit cannot be read keeps the one it has.
     */
    void readAgain() {
        var read = kafka.read(groups());
        var before = limits;
        var byTopic = new HashMap<>(before.byTopic());
        for (var queue : properties.queues()) {
            var kafkaSays = read.byGroup().get(Topics.shareGroup(queue));
            if (kafkaSays == null) {
                continue;
            }
            var choice = choose(properties.shareDeliveryLimit(), kafkaSays, null);
            var was = byTopic.put(Topics.jobs(queue), choice.limit());
            if (was == null || was != choice.limit()) {
                log.warn("Kafka now allows a record of queue {} {} deliveries: this worker holds its records to {} "
                        + "(was {})", queue, kafkaSays, choice.limit(), was);
            }
        }
        limits = limits(byTopic);
    }

    @Override
    public void destroy() {
        if (reader != null) {
            reader.interrupt();
        }
    }

    /**
     * The rule: Kafka's limit where it was read, unless {@code share-delivery-limit} is set lower; the setting where
     * Kafka's could not be read; else Kafka's default.
     *
     * @param setting {@code share-delivery-limit}, null when unset
     * @param kafka   what Kafka says, null when it could not be read
     * @param problem why it could not be read, or null
     */
    static Choice choose(Integer setting, Integer kafka, String problem) {
        if (kafka == null) {
            if (setting != null) {
                return new Choice(setting, null);
            }
            return new Choice(KAFKA_DEFAULT, "Could not read from Kafka how many deliveries it allows a record ("
                    + (problem == null ? "it did not say" : problem) + "): assuming Kafka's default, " + KAFKA_DEFAULT
                    + ". If the brokers' group.share.delivery.count.limit (or the share group's "
                    + "share.delivery.count.limit) is not " + KAFKA_DEFAULT
                    + ", set conveyor.worker.share-delivery-limit to it");
        }
        if (setting == null || setting.equals(kafka)) {
            return new Choice(kafka, null);
        }
        if (setting < kafka) {
            return new Choice(setting, "conveyor.worker.share-delivery-limit is " + setting + " but Kafka allows a "
                    + "record " + kafka + " deliveries: using " + setting + ", so jobs are handed back to the api "
                    + "sooner than needed. Unset it to follow Kafka");
        }
        return new Choice(kafka, "conveyor.worker.share-delivery-limit is " + setting + " but Kafka allows a record "
                + "only " + kafka + " deliveries: using " + kafka + " (released on its last delivery, a record would "
                + "be archived and its attempt counted as lost). Unset it to follow Kafka");
    }

    /** Whether Kafka would archive the record if it were released now: this is its last delivery. */
    boolean isLast(ConsumerRecord<?, ?> record) {
        var now = limits;
        return record.deliveryCount().orElse((short) 1) >= now.byTopic().getOrDefault(record.topic(), now.otherwise());
    }

    /** The limit the records of this queue are held to. */
    int of(String queue) {
        var now = limits;
        return now.byTopic().getOrDefault(Topics.jobs(queue), now.otherwise());
    }
}
