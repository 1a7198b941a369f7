package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import dev.conveyor.common.test.CapturedLines;
import java.util.UUID;
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
