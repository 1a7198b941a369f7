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
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.ToIntFunction;
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
 * A job's first record goes to its key's partition; each later dispatch's to the next partition, so that a job given
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

        assertNextPartitionEachTime(id, JobDispatch::attempt);
    }

    /**
     * A job given back unstarted (no room, a stopping worker, no handler) is dispatched again under the same attempt,
     * with one more hand-back, which the record carries (the worker echoes it with its next hand-back); it goes to the
     * next partition too, so that a worker without the job's handler does not get it back each time.
     */
    @Test
    void aJobGivenBackUnstartedGoesToTheNextPartitionUnderTheSameAttempt() {
        var id = UUID.randomUUID();
        dispatcher.publish(IntStream.range(0, 7).mapToObj(handBacks -> new Dispatcher.Item(id, "default", "echo",
                QUEUE, 0, 10, 60, Json.tree("{}"), 0, handBacks)).toList());

        var attempts = assertNextPartitionEachTime(id, JobDispatch::handBacks);
        assertThat(attempts).as("the attempt of every dispatch").containsOnly(1);
    }

    /**
     * Reads the job's seven records, numbered by {@code number}, checks that each is on the partition after the one
     * before, and answers the attempts they carry.
     */
    private Set<Integer> assertNextPartitionEachTime(UUID id, ToIntFunction<JobDispatch> number) {
        var attempts = new HashSet<Integer>();
        var partitionOf = new TreeMap<Integer, Integer>();
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
                        partitionOf.put(number.applyAsInt(dispatch), record.partition());
                        attempts.add(dispatch.attempt());
                    }
                }
                return partitionOf.size() == 7;
            });
            var count = partitions.size();
            assertThat(count).as("the queue's partitions").isGreaterThan(1);

            // the first record is sent without a partition (Kafka's producer picks its key's); each later one on
            // the next partition after it, every partition in turn
            var first = partitionOf.firstKey();
            for (var n = first + 1; n < first + 7; n++) {
                assertThat(partitionOf.get(n)).as("record %d of %s", n, partitionOf)
                        .isEqualTo((partitionOf.get(n - 1) + 1) % count);
            }
        }
        return attempts;
    }
}
