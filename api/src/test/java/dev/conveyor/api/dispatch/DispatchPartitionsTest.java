package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import dev.conveyor.common.message.JobDispatch;
import dev.conveyor.common.test.TestKafka;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A job's first record goes to its key's partition; each later attempt's to the next partition, so that a job given
 * back or rescued is offered to other members of the share group (each member holds partitions of its own while the
 * members are no more than the partitions).
 */
@ApiTest
class DispatchPartitionsTest {

    private static final String QUEUE = "partitions-q";

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
    }

    @Autowired
    Dispatcher dispatcher;

    @Test
    void laterAttemptsGoToTheNextPartitionEachTime() {
        var id = UUID.randomUUID();
        // attempts started so far: 0 for the first record, then one more for each record after it
        dispatcher.publish(IntStream.range(0, 7).mapToObj(started -> new Dispatcher.Item(id, "default", "echo", QUEUE,
                started, 10, 60, Json.tree("{}"), 0)).toList());

        var partitionOfAttempt = new TreeMap<Integer, Integer>();
        try (var consumer = new KafkaConsumer<String, String>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers(),
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class))) {
            var partitions = new ArrayList<TopicPartition>();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                partitions.clear();
                consumer.partitionsFor(Topics.jobs(QUEUE)).forEach(p -> partitions.add(
                        new TopicPartition(p.topic(), p.partition())));
                return !partitions.isEmpty();
            });
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                for (var record : consumer.poll(Duration.ofMillis(200))) {
                    var dispatch = Json.read(record.value(), JobDispatch.class);
                    if (dispatch.jobId().equals(id)) {
                        assertThat(record.key()).isEqualTo(id.toString());
                        partitionOfAttempt.put(dispatch.attempt(), record.partition());
                    }
                }
                return partitionOfAttempt.size() == 7;
            });
            var count = partitions.size();
            assertThat(count).as("the queue's partitions").isGreaterThan(1);

            // the first record is sent without a partition (Kafka's producer picks its key's); each later one on
            // the next partition after it, every partition in turn
            for (var attempt = 2; attempt <= 7; attempt++) {
                assertThat(partitionOfAttempt.get(attempt)).as("attempt %d of %s", attempt, partitionOfAttempt)
                        .isEqualTo((partitionOfAttempt.get(attempt - 1) + 1) % count);
            }
        }
    }
}
