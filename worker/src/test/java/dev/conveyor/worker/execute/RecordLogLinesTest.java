package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import dev.conveyor.common.message.JobDispatch;
import dev.conveyor.common.test.CapturedLines;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * What anyone who can write to a queue's topic can put in a worker's log through a record it rejects: one line of
 * bounded length, which cannot forge another line, repaint a terminal or reorder what a reader sees.
 */
class RecordLogLinesTest {

    private static final String FORGED = CapturedLines.FORGED;

    private final RunnerTesting testing = new RunnerTesting(new JobHandler() {
        @Override
        public String type() {
            return "echo";
        }

        @Override
        public JsonNode handle(JobContext context) {
            return context.payload();
        }
    });
    private CapturedLines lines;

    /** A runner whose handler holds each job until {@code ends} counts down. */
    private static RunnerTesting blockingUntil(CountDownLatch ends) {
        return new RunnerTesting(RunnerTesting.handler(context -> {
            try {
                ends.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return context.payload();
        }));
    }

    @BeforeEach
    void listen() {
        lines = CapturedLines.start(JobRunner.class);
    }

    @AfterEach
    void stopListening() {
        lines.close();
    }

    @Test
    void aRecordThatIsNotJsonIsLoggedOnOneLine() throws Exception {
        var taken = testing.take(RunnerTesting.record("key" + FORGED + "k".repeat(1 << 20),
                "not json" + FORGED + "x".repeat(1 << 20)));

        assertThat(taken).isEqualTo(AcknowledgeType.REJECT);
        lines.assertSafe(1, 4_000);
    }

    @Test
    void aFloodOfUnreadableRecordsIsLoggedOnceAMinuteWithACount() throws Exception {
        for (var n = 0; n < 1_000; n++) {
            assertThat(testing.take(RunnerTesting.record("key-" + n, "not json " + n)))
                    .isEqualTo(AcknowledgeType.REJECT);
        }
        // the first of a burst in full, the rest held back
        assertThat(lines.lines()).singleElement().satisfies(line -> assertThat(line.getFormattedMessage())
                .contains("@0 (key key-0)").contains("Unrecognized token").doesNotContain("more like it"));

        testing.nanoTime.addAndGet(JobRunner.REJECTED_LOGGED_EVERY.toNanos() - 1);
        testing.take(RunnerTesting.record("key-early", "not json"));
        assertThat(lines.lines()).hasSize(1);

        testing.nanoTime.incrementAndGet();
        testing.take(RunnerTesting.record("key-late", "{}"));
        assertThat(lines.lines()).hasSize(2).last().satisfies(line -> assertThat(line.getFormattedMessage())
                .contains("(key key-late)").contains("(and 1000 more like it since the last such line)"));
        lines.assertSafe(2, 4_000);
    }

    @Test
    void aFloodOfRecordsAtOddsWithTheRunningAttemptIsLoggedOnceAMinuteWithACount() throws Exception {
        var ends = new CountDownLatch(1);
        var blocking = blockingUntil(ends);
        try {
            var running = new JobDispatch(JobDispatch.VERSION, UUID.randomUUID(), "t", "default", 1, 3, 30,
                    Json.object(), Instant.now(), 0);
            assertThat(blocking.take(running)).isEqualTo(AcknowledgeType.ACCEPT);
            // a later attempt of the same job and generation, with a maxAttempts no api would change within it
            var odd = new JobDispatch(JobDispatch.VERSION, running.jobId(), "t", "default", 2, 4, 30, Json.object(),
                    Instant.now(), 0);
            for (var n = 0; n < 100; n++) {
                assertThat(blocking.take(odd)).isEqualTo(AcknowledgeType.REJECT);
            }
            assertThat(lines.lines()).singleElement().satisfies(line -> assertThat(line.getFormattedMessage())
                    .contains("Rejecting job " + running.jobId()).doesNotContain("more like it"));

            blocking.nanoTime.addAndGet(JobRunner.REJECTED_LOGGED_EVERY.toNanos());
            assertThat(blocking.take(odd)).isEqualTo(AcknowledgeType.REJECT);
            assertThat(lines.lines()).hasSize(2).last().satisfies(line -> assertThat(line.getFormattedMessage())
                    .contains("(and 99 more like it since the last such line)"));
        } finally {
            ends.countDown();
        }
    }

    /**
     * A second record of the attempt running here (a redelivery, a publish twice) is accepted without running it, and
     * said on a line: 1,000 of them written to the topic made 1,000 lines; now the first, then a count a minute.
     */
    @Test
    void aFloodOfSecondRecordsOfTheAttemptRunningIsLoggedOnceAMinuteWithACount() throws Exception {
        var ends = new CountDownLatch(1);
        var blocking = blockingUntil(ends);
        try {
            var running = new JobDispatch(JobDispatch.VERSION, UUID.randomUUID(), "t", "default", 2, 3, 30,
                    Json.object(), Instant.now(), 0);
            assertThat(blocking.take(running)).isEqualTo(AcknowledgeType.ACCEPT);
            var older = new JobDispatch(JobDispatch.VERSION, running.jobId(), "t", "default", 1, 3, 30,
                    Json.object(), Instant.now(), 0);
            for (var n = 0; n < 500; n++) {
                assertThat(blocking.take(running)).isEqualTo(AcknowledgeType.ACCEPT);
                assertThat(blocking.take(older)).isEqualTo(AcknowledgeType.ACCEPT);
            }
            assertThat(lines.lines()).singleElement().satisfies(line -> assertThat(line.getFormattedMessage())
                    .contains("runs here already").doesNotContain("more like it"));

            blocking.nanoTime.addAndGet(JobRunner.REJECTED_LOGGED_EVERY.toNanos());
            assertThat(blocking.take(older)).isEqualTo(AcknowledgeType.ACCEPT);
            assertThat(lines.lines()).hasSize(2).last().satisfies(line -> assertThat(line.getFormattedMessage())
                    .contains("older than the attempt running here")
                    .contains("(and 999 more like it since the last such line)"));
            assertThat(blocking.runner.inFlight()).as("the attempt running, once").isEqualTo(1);
        } finally {
            ends.countDown();
        }
    }

    @Test
    void aRecordWithAValueNoJobHasIsLoggedOnOneLine() throws Exception {
        var escaped = FORGED.replace("\n", "\\n").replace("\u001b", "\\u001b");
        var taken = testing.take(RunnerTesting.record(UUID.randomUUID().toString(),
                "{\"v\": 1, \"jobId\": \"" + UUID.randomUUID() + "\", \"type\": \"echo\", \"queue\": \"default\", "
                        + "\"attempt\": 1, \"maxAttempts\": 1, \"timeoutSeconds\": \"" + escaped + "\", "
                        + "\"payload\": {}, \"generation\": 0}"));

        assertThat(taken).isEqualTo(AcknowledgeType.REJECT);
        lines.assertSafe(1, 4_000);
    }
}
