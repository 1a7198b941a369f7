package dev.conveyor.worker.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import dev.conveyor.common.message.CancelJob;
import dev.conveyor.common.test.CapturedLines;
import dev.conveyor.common.test.TestKafka;
import dev.conveyor.worker.execute.RunningAttempts;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;

/**
 * Unreadable records on {@code conveyor.control} are skipped one by one; the listener goes on reading. A record the
 * JVM cannot apply (its heap ran out) is read again, not lost; at the catch-up it stops the start, as a Kafka that
 * stops answering does within the catch-up's window.
 */
class CancellationListenerTest {

    /** Keeps the cancellations the listener passes on. */
    static final class Recording extends RunningAttempts {

        final List<UUID> cancelled = new CopyOnWriteArrayList<>();
        /** Cancelling these throws an Error, as a hostile record that overflows the stack as it is read does. */
        final List<UUID> poisoned = new CopyOnWriteArrayList<>();
        /** How long each cancellation takes (a busy machine's, say). */
        volatile Duration slow = Duration.ZERO;
        /** Cancelling these throws the Error made, as many times as counted down, then succeeds. */
        final Map<UUID, Failing> failing = new ConcurrentHashMap<>();

        record Failing(Supplier<Error> error, AtomicInteger times) {
        }

        void fail(UUID jobId, int times, Supplier<Error> error) {
            failing.put(jobId, new Failing(error, new AtomicInteger(times)));
        }

        @Override
        public void cancel(UUID jobId, int generation, Instant at) {
            if (poisoned.contains(jobId)) {
                throw new StackOverflowError();
            }
            var fails = failing.get(jobId);
            if (fails != null && fails.times().getAndDecrement() > 0) {
                throw fails.error().get();
            }
            if (!slow.isZero()) {
                java.util.concurrent.locks.LockSupport.parkNanos(slow.toNanos());
            }
            cancelled.add(jobId);
            super.cancel(jobId, generation, at);
        }
    }

    private final Recording attempts = new Recording();
    private final KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers()),
            new ByteArraySerializer(), new ByteArraySerializer());
    private CancellationListener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.stop();
        }
        producer.close();
    }

    private void send(String value) throws Exception {
        send(value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    private void send(byte[] value) throws Exception {
        producer.send(new ProducerRecord<>(Topics.CONTROL, "key".getBytes(StandardCharsets.UTF_8), value)).get();
    }

    private static String cancel(UUID jobId, int generation) {
        return Json.write(new CancelJob(CancelJob.VERSION, jobId, generation, Instant.now()));
    }

    @Test
    void skipsUnreadableCancellationsAndKeepsListening() throws Exception {
        var before = UUID.randomUUID();
        send("not json");
        send((String) null);
        send(new byte[] {(byte) 0xff, 0, (byte) 0xfe});
        send("{}");
        send("{\"v\": 1, \"jobId\": \"nope\", \"generation\": 0}");
        send(cancel(null, 0));
        var negative = UUID.randomUUID();
        send(cancel(negative, -1));
        send(cancel(before, 0));
        var kafka = new KafkaProperties();
        kafka.setBootstrapServers(List.of(TestKafka.bootstrapServers()));
        listener = new CancellationListener(kafka, attempts);

        listener.start();

        assertThat(attempts.cancelled).contains(before).doesNotContain(negative).doesNotContainNull();
        send("[1, 2, 3]");
        send("{\"v\": 1, \"jobId\": \"" + UUID.randomUUID() + "\", \"generation\": \"many\"}");
        var after = UUID.randomUUID();
        send(cancel(after, 0));
        await().atMost(Duration.ofSeconds(10)).until(() -> attempts.cancelled.contains(after));
        assertThat(listener.isRunning()).isTrue();
    }

    @Test
    void logsAnUnreadableCancellationOnOneShortLine() throws Exception {
        var logger = (Logger) LoggerFactory.getLogger(CancellationListener.class);
        var lines = new ListAppender<ILoggingEvent>();
        lines.start();
        logger.addAppender(lines);
        try {
            var forged = "\n2026-12-07T00:00:00.000Z  INFO 1 --- [conveyor-worker] [main] forged line"
                    + "\u001b[2J\u202e\u2028";
            send("{\"v\": 1, \"jobId\": \"nope" + forged.replace("\n", "\\n").replace("\u001b", "\\u001b")
                    + "\", \"generation\": 0}");
            send("not json" + forged + "x".repeat(100_000));
            var after = UUID.randomUUID();
            send(cancel(after, 0));
            // every line let through, to see each of them
            listener = new CancellationListener(kafka(), attempts, Duration.ofSeconds(30), Duration.ZERO);

            listener.start();

            await().atMost(Duration.ofSeconds(30)).until(() -> attempts.cancelled.contains(after));
            assertThat(lines.list).hasSizeGreaterThanOrEqualTo(2).allSatisfy(line -> {
                var text = line.getFormattedMessage();
                assertThat(text.length()).as(text).isLessThan(4_000);
                assertThat(text.chars().filter(c -> c < 0x20 || c == 0x7f || c == 0x202e || c == 0x2028).toArray())
                        .as("characters that break the line or a terminal in: %s", text).isEmpty();
            });
        } finally {
            logger.detachAppender(lines);
        }
    }

    @Test
    void unreadableCancellationsAreLoggedAtMostOnceAMinute() throws Exception {
        // anyone who can write to conveyor.control can write a thousand a second: a line each filled every worker's log
        for (var i = 0; i < 1_000; i++) {
            producer.send(new ProducerRecord<>(Topics.CONTROL, "key".getBytes(StandardCharsets.UTF_8),
                    ("not json " + i).getBytes(StandardCharsets.UTF_8)));
        }
        var after = UUID.randomUUID();
        send(cancel(after, 0));
        try (var lines = CapturedLines.start(CancellationListener.class)) {
            listener = new CancellationListener(kafka(), attempts);

            listener.start();
            send("not json either");
            var last = UUID.randomUUID();
            send(cancel(last, 0));

            await().atMost(Duration.ofSeconds(10)).until(() -> attempts.cancelled.contains(last));
            assertThat(attempts.cancelled).contains(after);
            lines.assertSafe(1, 1_000);
        }
    }

    private static KafkaProperties kafka() {
        var kafka = new KafkaProperties();
        kafka.setBootstrapServers(List.of(TestKafka.bootstrapServers()));
        return kafka;
    }

    @Test
    void aRecordThatThrowsAnErrorIsSkippedBeforeAndAfterTheStart() throws Exception {
        var before = UUID.randomUUID();
        var after = UUID.randomUUID();
        attempts.poisoned.add(before);
        attempts.poisoned.add(after);
        send(cancel(before, 0));
        var next = UUID.randomUUID();
        send(cancel(next, 0));
        listener = new CancellationListener(kafka(), attempts);

        listener.start(); // it threw the Error, and the worker could not start while the record was kept (a week)

        assertThat(attempts.cancelled).contains(next);
        send(cancel(after, 0));
        var last = UUID.randomUUID();
        send(cancel(last, 0));
        // the Error ended the listening thread, silently: no cancellation was heard of again until a restart
        await().atMost(Duration.ofSeconds(10)).until(() -> attempts.cancelled.contains(last));
        assertThat(listener.isRunning()).isTrue();
    }

    @Test
    void aCatchUpLongerThanItsWindowGoesOnWhileItProgresses() throws Exception {
        var last = UUID.randomUUID();
        for (var i = 0; i < 3_000; i++) {
            producer.send(new ProducerRecord<>(Topics.CONTROL, "key".getBytes(StandardCharsets.UTF_8),
                    cancel(i == 2_999 ? last : UUID.randomUUID(), 0).getBytes(StandardCharsets.UTF_8)));
        }
        producer.flush();
        attempts.slow = Duration.ofMillis(2);
        // at least 6 s of reading, against a window of 3 s: a week of cancellations that took longer than its window
        // to read stopped every worker's start, again at each restart, for as long as they were kept
        listener = new CancellationListener(kafka(), attempts, Duration.ofSeconds(3));

        listener.start();

        assertThat(attempts.cancelled).contains(last);
    }

    /**
     * A consumer of a broker that answered the topic's partitions and end offsets, then stopped answering: the real
     * client of a port that nothing listens on, behind those two answers.
     */
    private static Consumer<String, String> answeringOnlyTheEndOffsets() throws Exception {
        int port;
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        Consumer<String, String> real = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + port,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), new StringDeserializer());
        var partition = new TopicPartition(Topics.CONTROL, 0);
        @SuppressWarnings("unchecked")
        var consumer = (Consumer<String, String>) Proxy.newProxyInstance(Consumer.class.getClassLoader(),
                new Class<?>[] {Consumer.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "partitionsFor" -> List.of(new PartitionInfo(Topics.CONTROL, 0, null, null, null));
                    case "endOffsets" -> Map.of(partition, 5L);
                    default -> {
                        try {
                            yield method.invoke(real, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    }
                });
        return consumer;
    }

    @Test
    void aBrokerThatStopsAnsweringDuringTheCatchUpFailsTheStartWithinItsWindow() throws Exception {
        var consumer = answeringOnlyTheEndOffsets();
        var silent = new CancellationListener(consumer, attempts, Duration.ofSeconds(2), Duration.ofMinutes(1));
        var startedAt = System.nanoTime();

        var failure = catchThrowable(silent::start);

        // the position of the first record waited for Kafka's default.api.timeout.ms (a minute), past the window,
        // and failed with Kafka's own words
        assertThat(Duration.ofNanos(System.nanoTime() - startedAt)).isLessThan(Duration.ofSeconds(12));
        assertThat(failure).isInstanceOf(IllegalStateException.class).hasMessageContaining(Topics.CONTROL)
                .hasMessageContaining("before it takes a job");
        assertThat(silent.isRunning()).isFalse();
        assertThat(catchThrowable(consumer::assignment)).as("closed by the failed start")
                .hasMessageContaining("closed");
    }

    @Test
    void anOutOfMemoryErrorLosesNeitherItsRecordNorTheOthersOfItsPoll() throws Exception {
        listener = new CancellationListener(kafka(), attempts);
        listener.start();
        var exhausted = UUID.randomUUID();
        var next = UUID.randomUUID();
        attempts.fail(exhausted, 2, () -> new OutOfMemoryError("Java heap space (a test's)"));

        try (var lines = CapturedLines.start(CancellationListener.class)) {
            // one batch, so one poll: the Error ended the poll's loop, and the records after it were never applied
            producer.send(new ProducerRecord<>(Topics.CONTROL, "key".getBytes(StandardCharsets.UTF_8),
                    cancel(exhausted, 0).getBytes(StandardCharsets.UTF_8)));
            producer.send(new ProducerRecord<>(Topics.CONTROL, "key".getBytes(StandardCharsets.UTF_8),
                    cancel(next, 0).getBytes(StandardCharsets.UTF_8)));
            producer.flush();

            await().atMost(Duration.ofSeconds(10)).until(() -> attempts.cancelled.contains(next));
            // not skipped either: the heap's trouble is not the record's, which is read again once it has passed
            await().atMost(Duration.ofSeconds(10)).until(() -> attempts.cancelled.contains(exhausted));
            assertThat(lines.lines()).anySatisfy(line -> {
                assertThat(line.getLevel().toString()).isEqualTo("ERROR");
                assertThat(line.getThrowableProxy().getClassName()).isEqualTo(OutOfMemoryError.class.getName());
            });
        }
        assertThat(listener.isRunning()).isTrue();
    }

    @Test
    void anOutOfMemoryErrorAtTheCatchUpFailsTheStartSayingSo() throws Exception {
        var exhausted = UUID.randomUUID();
        attempts.fail(exhausted, Integer.MAX_VALUE, () -> new OutOfMemoryError("Java heap space (a test's)"));
        send(cancel(exhausted, 0));
        var starting = new CancellationListener(kafka(), attempts);

        var failure = catchThrowable(starting::start);

        assertThat(failure).isInstanceOf(IllegalStateException.class).hasMessageContaining(Topics.CONTROL)
                .hasRootCauseInstanceOf(OutOfMemoryError.class);
        assertThat(starting.isRunning()).isFalse();
    }

    @Test
    void anErrorOfTheRecordsOwnSkipsOnlyThatRecordBeforeAndAfterTheStart() throws Exception {
        var before = UUID.randomUUID();
        attempts.fail(before, Integer.MAX_VALUE, () -> new AssertionError("a check the record failed"));
        send(cancel(before, 0));
        var next = UUID.randomUUID();
        send(cancel(next, 0));
        listener = new CancellationListener(kafka(), attempts);

        listener.start(); // the Error ended the start

        assertThat(attempts.cancelled).contains(next).doesNotContain(before);
        var after = UUID.randomUUID();
        attempts.fail(after, Integer.MAX_VALUE, () -> new AssertionError("a check the record failed"));
        var last = UUID.randomUUID();
        producer.send(new ProducerRecord<>(Topics.CONTROL, "key".getBytes(StandardCharsets.UTF_8),
                cancel(after, 0).getBytes(StandardCharsets.UTF_8)));
        producer.send(new ProducerRecord<>(Topics.CONTROL, "key".getBytes(StandardCharsets.UTF_8),
                cancel(last, 0).getBytes(StandardCharsets.UTF_8)));
        producer.flush();
        // the rest of its poll was lost
        await().atMost(Duration.ofSeconds(10)).until(() -> attempts.cancelled.contains(last));
        assertThat(attempts.cancelled).doesNotContain(after);
    }
}
