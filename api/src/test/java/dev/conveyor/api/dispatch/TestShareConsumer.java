package dev.conveyor.api.dispatch;

import static org.awaitility.Awaitility.await;

import dev.conveyor.common.Topics;
import dev.conveyor.common.test.TestKafka;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A stand-in worker: a share consumer in a queue's share group that the test tells how to acknowledge each record
 * of its job (so that Kafka archives it, or a start precedes the accept).
 */
final class TestShareConsumer implements AutoCloseable {

    private final KafkaShareConsumer<String, String> consumer;

    TestShareConsumer(String queue) {
        consumer = new KafkaShareConsumer<>(Map.of(
                "bootstrap.servers", TestKafka.bootstrapServers(),
                "group.id", Topics.shareGroup(queue),
                "share.acknowledgement.mode", "explicit",
                "max.poll.records", 10), new StringDeserializer(), new StringDeserializer());
        consumer.subscribe(List.of(Topics.jobs(queue)));
    }

    /**
     * Polls until a record of the job arrives and answers it unacknowledged (the caller acknowledges it before the
     * next poll). Records of other jobs are released.
     */
    ConsumerRecord<String, String> next(UUID job, Duration atMost) {
        var found = new AtomicReference<ConsumerRecord<String, String>>();
        await().atMost(atMost).pollInSameThread().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10))
                .until(() -> {
                    for (var record : consumer.poll(Duration.ofMillis(200))) {
                        if (found.get() == null && record.key().equals(job.toString())) {
                            found.set(record);
                        } else {
                            consumer.acknowledge(record, AcknowledgeType.RELEASE);
                        }
                    }
                    return found.get() != null;
                });
        return found.get();
    }

    /** Acknowledges the record and waits until Kafka has the acknowledgement. */
    void acknowledge(ConsumerRecord<String, String> record, AcknowledgeType type) {
        consumer.acknowledge(record, type);
        consumer.commitSync(Duration.ofSeconds(10));
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }
}
