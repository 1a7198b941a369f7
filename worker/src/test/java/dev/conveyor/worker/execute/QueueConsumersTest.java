package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import dev.conveyor.common.Topics;
import dev.conveyor.common.kafka.QueueTopics;
import dev.conveyor.common.test.CapturedLines;
import dev.conveyor.worker.HttpSettings;
import dev.conveyor.worker.SqlSettings;
import dev.conveyor.worker.WorkerProperties;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockShareConsumer;
import org.apache.kafka.clients.consumer.ShareConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Status;
import org.springframework.kafka.core.ShareConsumerFactory;

/**
 * The consumers of a worker's queues are supervised: one that dies is replaced after a backoff and takes jobs again,
 * and health is down while a queue has none; a record whose taking throws does not stop its consumer.
 */
class QueueConsumersTest {

    private static final String QUEUE = "supervised";
    private static final String TOPIC = Topics.jobs(QUEUE);

    /** A consumer on no broker: records are handed in with {@link #offer}; it can be told to fail its next poll. */
    static final class FakeConsumer extends MockShareConsumer<String, String> {

        volatile RuntimeException failNextPoll;
        /** What the client's connection-count metric says: 0 as a client cut off from Kafka says. */
        final AtomicInteger connections = new AtomicInteger(1);
        volatile CountDownLatch commitHeld = new CountDownLatch(0);
        final AtomicInteger commitsEntered = new AtomicInteger();
        final List<AcknowledgeType> acknowledged = new CopyOnWriteArrayList<>();
        private long offset;

        @Override
        public synchronized ConsumerRecords<String, String> poll(Duration timeout) {
            var failure = failNextPoll;
            if (failure != null) {
                failNextPoll = null;
                throw failure;
            }
            var records = super.poll(timeout);
            if (records.isEmpty()) {
                try {
                    wait(20); // as a real poll waits for records, without spinning
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return records;
        }

        @Override
        public synchronized void acknowledge(ConsumerRecord<String, String> record, AcknowledgeType type) {
            acknowledged.add(type);
        }

        /** Holds each commit until {@link #commitHeld} is released (10 s at most). */
        @Override
        public Map<TopicIdPartition, Optional<KafkaException>> commitSync(Duration timeout) {
            commitsEntered.incrementAndGet();
            try {
                commitHeld.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return super.commitSync(timeout);
        }

        volatile boolean closed;

        @Override
        public void close(Duration timeout) {
            closed = true;
            super.close(timeout);
        }

        @Override
        public Map<MetricName, ? extends Metric> metrics() {
            var name = new MetricName("connection-count", "consumer-metrics", "", Map.of());
            return Map.of(name, new Metric() {
                @Override
                public MetricName metricName() {
                    return name;
                }

                @Override
                public Object metricValue() {
                    return (double) connections.get();
                }
            });
        }

        synchronized void offer(String key) {
            offer(key, "{}");
        }

        /** A record with its sizes as Kafka gives them (the value's, for max-in-flight-bytes). */
        synchronized void offer(String key, String value) {
            addRecord(new ConsumerRecord<>(TOPIC, 0, offset++, RecordBatch.NO_TIMESTAMP, TimestampType.NO_TIMESTAMP_TYPE,
                    key.getBytes(StandardCharsets.UTF_8).length, value.getBytes(StandardCharsets.UTF_8).length, key,
                    value, new RecordHeaders(), Optional.empty(), Optional.empty()));
        }

        /** How long Kafka keeps a record delivered to this consumer for it; empty: not known. */
        volatile Optional<Integer> lockMs = Optional.empty();

        @Override
        public Optional<Integer> acquisitionLockTimeoutMs() {
            return lockMs;
        }
    }

    private final List<FakeConsumer> made = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<String> taken = new ConcurrentLinkedQueue<>();
    private final AtomicInteger takeFailures = new AtomicInteger();
    /** The name of the thread that took each record, by record key. */
    private final Map<String, String> takenOn = new ConcurrentHashMap<>();
    /** Jobs to run (counting down their latch) once taken, by record key. */
    private final Map<String, CountDownLatch> running = new ConcurrentHashMap<>();
    private final JobRunner runner = mock(JobRunner.class);
    private final AtomicBoolean kafkaAnswers = new AtomicBoolean(true);
    private final AtomicInteger probes = new AtomicInteger();
    private QueueConsumers consumers;
    private ConsumersHealth health;

    private void start() throws Exception {
        when(runner.take(any(), any(), anyLong())).thenAnswer(invocation -> {
            ConsumerRecord<String, String> record = invocation.getArgument(0);
            if (record.key().startsWith("explode")) {
                takeFailures.incrementAndGet();
                throw new IllegalStateException("a bug while taking " + record.key());
            }
            takenOn.put(record.key(), Thread.currentThread().getName());
            taken.add(record.key());
            var ran = running.get(record.key());
            return ran == null ? JobRunner.Taken.done(AcknowledgeType.ACCEPT)
                    : new JobRunner.Taken(AcknowledgeType.ACCEPT, ran::countDown, record.key().startsWith("suspect"));
        });
        @SuppressWarnings("unchecked")
        ShareConsumerFactory<String, String> factory = mock(ShareConsumerFactory.class);
        when(factory.createShareConsumer(anyString(), anyString())).thenAnswer(invocation -> {
            var consumer = new FakeConsumer();
            made.add(consumer);
            return (ShareConsumer<String, String>) consumer;
        });
        var properties = new WorkerProperties("test-worker", List.of(QUEUE), 1, 10, 1_048_576, Duration.ZERO, 100,
                null, 1, (short) 1, Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofMillis(100), Map.of(), 5,
                HttpSettings.defaults(), SqlSettings.off());
        consumers = new QueueConsumers(factory, mock(QueueTopics.class), runner, new HandlerRegistry(List.of()),
                properties, () -> {
                    probes.incrementAndGet();
                    return kafkaAnswers.get();
                }, Duration.ofSeconds(1));
        health = new ConsumersHealth(consumers);
        consumers.start();
    }

    @AfterEach
    void stop() {
        if (consumers != null) {
            consumers.stop();
        }
    }

    private FakeConsumer subscribed(int index) {
        await().atMost(Duration.ofSeconds(10)).until(() -> made.size() > index
                && made.get(index).subscription().contains(TOPIC));
        return made.get(index);
    }

    @Test
    void replacesAConsumerThatDiesAndTheNewOneTakesJobs() throws Exception {
        start();
        var first = subscribed(0);
        first.offer("job-1");
        await().until(() -> taken.contains("job-1"));
        assertThat(health.health().getStatus()).isEqualTo(Status.UP);

        first.failNextPoll = new KafkaException("the broker said no");

        await().atMost(Duration.ofSeconds(5)).until(() -> health.health().getStatus().equals(Status.DOWN));
        var second = subscribed(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> health.health().getStatus().equals(Status.UP));
        second.offer("job-2");
        await().until(() -> taken.contains("job-2"));
        assertThat(health.health().getDetails()).containsEntry("restarts", 1);
    }

    /**
     * A consumer whose client has had no connection to Kafka for a while (1 s here, 10 s by default) closes, and a new
     * one is made once Kafka answers again: a share consumer without a broker spun (kafka-clients 4.2.1), half a
     * core for its network thread and as much for its poll, logging thousands of lines a second.
     */
    @Test
    void aConsumerCutOffFromKafkaClosesUntilKafkaAnswersAgain() throws Exception {
        start();
        var first = subscribed(0);
        first.offer("job-a");
        await().until(() -> taken.contains("job-a"));

        kafkaAnswers.set(false);
        first.connections.set(0);

        await().atMost(Duration.ofSeconds(10)).until(() -> first.closed);
        await().atMost(Duration.ofSeconds(10)).until(() -> probes.get() >= 2);
        assertThat(made).as("none made while Kafka does not answer").hasSize(1);
        assertThat(health.health().getStatus()).isEqualTo(Status.DOWN);

        kafkaAnswers.set(true);
        var second = subscribed(1);
        second.offer("job-b");
        await().until(() -> taken.contains("job-b"));
        await().atMost(Duration.ofSeconds(5)).until(() -> health.health().getStatus().equals(Status.UP));
        assertThat(health.health().getDetails()).as("not a failure").containsEntry("restarts", 0);
    }

    @Test
    void aRecordWhoseTakingThrowsIsReleasedAndTheConsumerGoesOn() throws Exception {
        start();
        var consumer = subscribed(0);

        consumer.offer("explode-1");
        consumer.offer("job-3");
        await().until(() -> taken.contains("job-3"));
        consumer.offer("job-4");

        await().until(() -> taken.contains("job-4"));
        assertThat(takeFailures).hasValue(1);
        assertThat(consumer.acknowledged).contains(AcknowledgeType.RELEASE, AcknowledgeType.ACCEPT);
        assertThat(made).hasSize(1);
        assertThat(health.health().getStatus()).isEqualTo(Status.UP);
    }

    @Test
    void aRecordsKeyNamesTheThreadTakingItCutAndEscaped() throws Exception {
        start();
        var consumer = subscribed(0);
        var key = "key" + CapturedLines.FORGED + "k".repeat(1 << 20);

        consumer.offer(key);

        var name = await().until(() -> takenOn.get(key), n -> n != null);
        // a log line names its thread (in full in a structured log), as do thread dumps and JFR recordings
        assertThat(name.length()).as(name).isLessThan(200);
        assertThat(name.chars().filter(c -> c < 0x20 || c == 0x7f || c == 0x202e || c == 0x2028).toArray())
                .as("characters that break the line or a terminal in: %s", name).isEmpty();
        assertThat(name).startsWith("take-key");
    }

    /** A job offered to a consumer whose commit is held by the test until {@code held} is counted down. */
    private record HeldCommit(CountDownLatch ran, CountDownLatch held, FakeConsumer consumer) {
    }

    private HeldCommit offerWithTheCommitHeld(String key) throws Exception {
        var ran = new CountDownLatch(1);
        running.put(key, ran);
        start();
        var consumer = subscribed(0);
        var held = new CountDownLatch(1);
        consumer.commitHeld = held;
        consumer.offer(key);
        await().until(() -> consumer.commitsEntered.get() == 1);
        return new HeldCommit(ran, held, consumer);
    }

    @Test
    void aJobStartsWhileItsAcceptanceIsCommitted() throws Exception {
        var job = offerWithTheCommitHeld("job-6");

        await().atMost(Duration.ofSeconds(5)).until(() -> job.ran().getCount() == 0);
        job.held().countDown();
        assertThat(job.consumer().acknowledged).containsExactly(AcknowledgeType.ACCEPT);
    }

    @Test
    void aJobThatMayStopItsWorkerStartsOnlyOnceKafkaHasItsAcceptance() throws Exception {
        var job = offerWithTheCommitHeld("suspect-7");

        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> job.ran().getCount() == 1);
        job.held().countDown();
        await().atMost(Duration.ofSeconds(5)).until(() -> job.ran().getCount() == 0);
    }

    @Test
    void takesNothingWhileJobsAndStuckHandlersFillMaxInFlight() throws Exception {
        when(runner.occupied()).thenReturn(100);
        start();
        var consumer = subscribed(0);

        consumer.offer("job-5");

        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(taken::isEmpty);
        when(runner.occupied()).thenReturn(99);
        await().until(() -> taken.contains("job-5"));
    }

    @Test
    void healthNamesTheWorkingConsumersPerQueueAndIsDownOnceTheyStop() throws Exception {
        start();
        subscribed(0);
        assertThat(health.health().getStatus()).isEqualTo(Status.UP);
        assertThat(health.health().getDetails().get("working")).isEqualTo(Map.of(QUEUE, 1));

        consumers.stop();

        assertThat(health.health().getStatus()).isEqualTo(Status.DOWN);
        consumers = null;
    }
}
