package dev.conveyor.worker.control;

import static org.assertj.core.api.Assertions.assertThat;
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
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;

/** Unreadable records on {@code conveyor.control} are skipped one by one; the listener goes on reading. */
class CancellationListenerTest {

    /** Keeps the cancellations the listener passes on. */
    static final class Recording extends RunningAttempts {

        final List<UUID> cancelled = new CopyOnWriteArrayList<>();
        /** Cancelling these throws an Error, as a hostile record that overflows the stack as it is read does. */
        final List<UUID> poisoned = new CopyOnWriteArrayList<>();
        /** How long each cancellation takes (a busy machine's, say). */
        volatile Duration slow = Duration.ZERO;

        @Override
        public void cancel(UUID jobId, int generation, Instant at) {
            if (poisoned.contains(jobId)) {
                throw new StackOverflowError();
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
}
