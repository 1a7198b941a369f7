package dev.conveyor.api.metrics;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.common.Topics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsOptions;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.SharePartitionOffsetInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Lags read from Kafka with two admin calls every few seconds (never per record): how many records of
 * {@code conveyor.events} the api's consumer group has not committed yet, and per queue how many job records its
 * share group has not acknowledged yet (Kafka's own share-group lag). Every api instance reports the same values:
 * take {@code max} across instances.
 */
@Component
class KafkaLags {

    private static final Logger log = LoggerFactory.getLogger(KafkaLags.class);
    /** How long a call to Kafka is waited for (and held by the admin client: no longer). */
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final Admin admin;
    private final ApiProperties properties;
    private final AtomicLong eventsLag = new AtomicLong();
    private final GaugeSet queueLag;
    private final Duration timeout;

    @Autowired
    KafkaLags(Admin admin, ApiProperties properties, MeterRegistry meters) {
        this(admin, properties, meters, TIMEOUT);
    }

    KafkaLags(Admin admin, ApiProperties properties, MeterRegistry meters, Duration timeout) {
        this.admin = admin;
        this.properties = properties;
        this.timeout = timeout;
        Gauge.builder("conveyor.events.lag", eventsLag, AtomicLong::get)
                .description("records on conveyor.events that the api's consumer group has not committed yet")
                .register(meters);
        queueLag = new GaugeSet("conveyor.queue.records.lag",
                "records of the queue's topic its share group has not acknowledged yet", null, meters);
    }

    @Scheduled(fixedDelayString = "${conveyor.metrics.refresh-interval:5s}")
    void refresh() {
        try {
            eventsLag.set(eventsLag());
        } catch (Exception e) {
            log.debug("Could not read the lag of {}: {}", Topics.API_EVENTS_GROUP, e.getMessage());
        }
        try {
            refreshQueueLags();
        } catch (Exception e) {
            log.debug("Could not read the share groups' lag: {}", e.getMessage());
        }
    }

    private long eventsLag() throws Exception {
        // each call's own timeout, as long as it is waited for: else the admin client holds it for
        // default.api.timeout.ms (a minute), and while Kafka is away every refresh adds more
        var committed = admin.listConsumerGroupOffsets(Topics.API_EVENTS_GROUP,
                new ListConsumerGroupOffsetsOptions().timeoutMs(timeoutMs())).partitionsToOffsetAndMetadata()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        var partitions = new HashMap<TopicPartition, OffsetSpec>();
        committed.keySet().stream().filter(p -> p.topic().equals(Topics.EVENTS))
                .forEach(p -> partitions.put(p, OffsetSpec.latest()));
        if (partitions.isEmpty()) {
            return 0;
        }
        var ends = admin.listOffsets(partitions, new ListOffsetsOptions().timeoutMs(timeoutMs())).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        long lag = 0;
        for (var end : ends.entrySet()) {
            var at = committed.get(end.getKey());
            lag += Math.max(0, end.getValue().offset() - (at == null ? 0 : at.offset()));
        }
        return lag;
    }

    private int timeoutMs() {
        return (int) timeout.toMillis();
    }

    private void refreshQueueLags() throws Exception {
        var specs = new HashMap<String, ListShareGroupOffsetsSpec>();
        properties.queues().forEach(queue -> specs.put(Topics.shareGroup(queue), new ListShareGroupOffsetsSpec()));
        var listed = admin.listShareGroupOffsets(specs, new ListShareGroupOffsetsOptions().timeoutMs(timeoutMs()));
        var lags = new HashMap<Tags, Double>();
        for (var queue : properties.queues()) {
            Map<TopicPartition, SharePartitionOffsetInfo> offsets;
            try {
                offsets = listed.partitionsToOffsetInfo(Topics.shareGroup(queue)).get(timeout.toMillis(),
                        TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                continue; // no worker has joined the group yet
            }
            long lag = 0;
            for (var info : offsets.values()) {
                if (info != null) {
                    lag += info.lag().orElse(0L);
                }
            }
            lags.put(Tags.of("queue", queue), (double) lag);
        }
        queueLag.set(lags);
    }
}
