package dev.conveyor.api.dispatch;

import dev.conveyor.common.Topics;
import jakarta.annotation.PreDestroy;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsOptions;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.listener.MessageListenerContainer;
import org.springframework.stereotype.Component;

/** What the reconciler asks Kafka: how far each queue's share group has got, and how far the api has read events. */
@Component
public class SharePositions {

    private static final Logger log = LoggerFactory.getLogger(SharePositions.class);
    /** How long a call to Kafka is waited for (and held by the admin client: no longer). */
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final Duration CATCH_UP_POLL = Duration.ofMillis(100);

    /** How long closing its own admin client may take. */
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

    private final Admin admin;
    private final KafkaListenerEndpointRegistry listeners;
    private final Duration timeout;
    private final boolean ownAdmin;

    /**
     * With an admin client of its own. A Kafka admin client sends a broker one request at a time, and the share
     * group's offsets have kept the broker 1.7 s at times; asked every second while jobs are on Kafka, they would hold
     * up the api's other admin calls on the shared client: the Kafka health check, the lag gauges, topic creation.
     */
    @Autowired
    SharePositions(KafkaAdmin kafkaAdmin, KafkaListenerEndpointRegistry listeners) {
        this(Admin.create(ownClientId(kafkaAdmin.getConfigurationProperties())), listeners, TIMEOUT, true);
    }

    SharePositions(Admin admin, KafkaListenerEndpointRegistry listeners, Duration timeout) {
        this(admin, listeners, timeout, false);
    }

    private SharePositions(Admin admin, KafkaListenerEndpointRegistry listeners, Duration timeout, boolean ownAdmin) {
        this.admin = admin;
        this.listeners = listeners;
        this.timeout = timeout;
        this.ownAdmin = ownAdmin;
    }

    /** The admin settings with a client id of its own, where one is set (two clients of one id clash in JMX). */
    static Map<String, Object> ownClientId(Map<String, Object> settings) {
        var own = new HashMap<>(settings);
        var id = own.get(AdminClientConfig.CLIENT_ID_CONFIG);
        if (id != null && !id.toString().isEmpty()) {
            own.put(AdminClientConfig.CLIENT_ID_CONFIG, id + "-reconciler");
        }
        return own;
    }

    /** The admin client it asks Kafka with. */
    Admin admin() {
        return admin;
    }

    @PreDestroy
    void close() {
        if (ownAdmin) {
            admin.close(CLOSE_TIMEOUT);
        }
    }

    /**
     * Per queue, per partition of its topic, an offset below which every record is acknowledged or archived by the
     * queue's share group (a partition Kafka knows no state of, because no worker has read it, is left out).
     *
     * <p>That is the share-partition start offset, except that the broker (4.2) persists the start offset a write
     * late: after the last acknowledgement on an idle partition it still names the record acknowledged. The lag
     * Kafka reports (records from the start offset to the end not acknowledged or archived) is current, so a lag
     * of 0 means every record is settled up to the end offset, read here before the share group was asked.
     */
    Map<String, Map<Integer, Long>> settledOffsets(Collection<String> queues) {
        var partitions = partitions(queues);
        if (partitions.isEmpty()) {
            return Map.of();
        }
        var ends = endOffsets(partitions.values().stream().flatMap(List::stream).toList());
        var specs = new HashMap<String, ListShareGroupOffsetsSpec>();
        partitions.forEach((queue, list) -> specs.put(Topics.shareGroup(queue),
                new ListShareGroupOffsetsSpec().topicPartitions(list)));
        var listed = admin.listShareGroupOffsets(specs, new ListShareGroupOffsetsOptions().timeoutMs(timeoutMs()));
        var answer = new HashMap<String, Map<Integer, Long>>();
        for (var queue : partitions.keySet()) {
            try {
                var settled = new HashMap<Integer, Long>();
                get(listed.partitionsToOffsetInfo(Topics.shareGroup(queue))).forEach((partition, info) -> {
                    if (info != null && info.startOffset() >= 0) {
                        var caughtUp = info.lag().orElse(-1L) == 0;
                        settled.put(partition.partition(),
                                caughtUp ? Math.max(info.startOffset(), ends.get(partition)) : info.startOffset());
                    }
                });
                if (!settled.isEmpty()) {
                    answer.put(queue, settled);
                }
            } catch (KafkaCallException e) {
                // e.g. no worker has joined the share group yet: nothing of it can be lost
                log.debug("No share group offsets for queue {}: {}", queue, e.getMessage());
            }
        }
        return answer;
    }

    /** The partitions of each queue's topic; queues without a topic are left out. */
    private Map<String, List<TopicPartition>> partitions(Collection<String> queues) {
        var topics = admin.describeTopics(queues.stream().map(Topics::jobs).toList(),
                new DescribeTopicsOptions().timeoutMs(timeoutMs())).topicNameValues();
        var answer = new HashMap<String, List<TopicPartition>>();
        for (var queue : queues) {
            try {
                answer.put(queue, get(topics.get(Topics.jobs(queue))).partitions().stream()
                        .map(p -> new TopicPartition(Topics.jobs(queue), p.partition())).toList());
            } catch (KafkaCallException e) {
                log.debug("No topic for queue {}: {}", queue, e.getMessage());
            }
        }
        return answer;
    }

    private Map<TopicPartition, Long> endOffsets(Collection<TopicPartition> partitions) {
        var latest = new HashMap<TopicPartition, OffsetSpec>();
        partitions.forEach(partition -> latest.put(partition, OffsetSpec.latest()));
        var ends = new HashMap<TopicPartition, Long>();
        get(admin.listOffsets(latest, new ListOffsetsOptions().timeoutMs(timeoutMs())).all()).forEach((partition, info) -> ends.put(partition, info.offset()));
        return ends;
    }

    /** The end offset of every partition of {@code conveyor.events} now. */
    public Map<TopicPartition, Long> eventsEnd() {
        var description = get(admin.describeTopics(List.of(Topics.EVENTS),
                new DescribeTopicsOptions().timeoutMs(timeoutMs())).allTopicNames()).get(Topics.EVENTS);
        return endOffsets(description.partitions().stream()
                .map(p -> new TopicPartition(Topics.EVENTS, p.partition())).toList());
    }

    /**
     * Waits until the groups that apply events (this api's events listeners; every api instance shares them) have
     * committed at least {@code ends}, that is, applied every event written before it was read. Answers false if
     * that did not happen before {@code deadline} says stop.
     */
    boolean awaitApplied(Map<TopicPartition, Long> ends, BooleanSupplier deadline) throws InterruptedException {
        var groups = eventGroups();
        while (true) {
            if (groups.stream().allMatch(group -> applied(group, ends))) {
                return true;
            }
            if (deadline.getAsBoolean()) {
                return false;
            }
            Thread.sleep(CATCH_UP_POLL);
        }
    }

    /**
     * Whether the groups that apply events have committed at least {@code ends} (see {@link #awaitApplied}), asked
     * once.
     */
    public boolean applied(Map<TopicPartition, Long> ends) {
        return eventGroups().stream().allMatch(group -> applied(group, ends));
    }

    private boolean applied(String group, Map<TopicPartition, Long> ends) {
        Map<TopicPartition, OffsetAndMetadata> committed = get(
                admin.listConsumerGroupOffsets(group, new ListConsumerGroupOffsetsOptions().timeoutMs(timeoutMs()))
                        .partitionsToOffsetAndMetadata());
        return ends.entrySet().stream().allMatch(end -> {
            var offset = committed.get(end.getKey());
            return (offset == null ? 0 : offset.offset()) >= end.getValue();
        });
    }

    /** The consumer groups this process reads {@code conveyor.events} with; normally just {@code conveyor-api}. */
    private List<String> eventGroups() {
        var groups = listeners.getListenerContainers().stream()
                .filter(container -> container.getContainerProperties().getTopics() != null
                        && Arrays.asList(container.getContainerProperties().getTopics()).contains(Topics.EVENTS))
                .map(MessageListenerContainer::getGroupId)
                .filter(Objects::nonNull)
                .distinct()
                .toList();
        return groups.isEmpty() ? List.of(Topics.API_EVENTS_GROUP) : groups;
    }

    /**
     * Each call's own timeout, as long as it is waited for: without it the admin client holds a call for
     * {@code default.api.timeout.ms} (a minute), whoever still waits, and while Kafka is away every pass adds more.
     */
    private int timeoutMs() {
        return (int) timeout.toMillis();
    }

    private <T> T get(KafkaFuture<T> future) {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaCallException("interrupted", e);
        } catch (ExecutionException e) {
            throw new KafkaCallException(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new KafkaCallException("Kafka did not answer within " + timeout.toMillis() + " ms", e);
        }
    }

    /** A Kafka admin call failed or timed out. */
    static final class KafkaCallException extends RuntimeException {
        KafkaCallException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
