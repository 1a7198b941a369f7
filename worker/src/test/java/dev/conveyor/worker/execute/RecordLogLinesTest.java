package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * What anyone who can write to a queue's topic can put in a worker's log through a record it rejects: one line of
 * bounded length, which cannot forge another line, repaint a terminal or reorder what a reader sees.
 */
class RecordLogLinesTest {

    static final String FORGED = "\n2026-12-07T00:00:00.000Z  INFO 1 --- [conveyor-worker] [main] forged line"
            + "\u001b[2J\u001b[31m\u202e\u2028";

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
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(JobRunner.class);

    @BeforeEach
    void listen() {
        lines.start();
        logger.addAppender(lines);
    }

    @AfterEach
    void stopListening() {
        logger.detachAppender(lines);
    }

    /** Every line logged: none holds a character that could break it or a terminal, and none is long. */
    static void assertSafe(List<ILoggingEvent> lines, int count) {
        assertThat(lines).hasSize(count).allSatisfy(line -> {
            var text = line.getFormattedMessage();
            assertThat(text.length()).as(text).isLessThan(4_000);
            assertThat(text.chars().filter(c -> c < 0x20 || c == 0x7f || c == 0x202e || c == 0x2028).toArray())
                    .as("characters that break the line or a terminal in: %s", text).isEmpty();
        });
    }

    @Test
    void aRecordThatIsNotJsonIsLoggedOnOneLine() throws Exception {
        var taken = testing.take(RunnerTesting.record("key" + FORGED + "k".repeat(1 << 20),
                "not json" + FORGED + "x".repeat(1 << 20)));

        assertThat(taken).isEqualTo(AcknowledgeType.REJECT);
        assertSafe(lines.list, 1);
    }

    @Test
    void aRecordWithAValueNoJobHasIsLoggedOnOneLine() throws Exception {
        var escaped = FORGED.replace("\n", "\\n").replace("\u001b", "\\u001b");
        var taken = testing.take(RunnerTesting.record(UUID.randomUUID().toString(),
                "{\"v\": 1, \"jobId\": \"" + UUID.randomUUID() + "\", \"type\": \"echo\", \"queue\": \"default\", "
                        + "\"attempt\": 1, \"maxAttempts\": 1, \"timeoutSeconds\": \"" + escaped + "\", "
                        + "\"payload\": {}, \"generation\": 0}"));

        assertThat(taken).isEqualTo(AcknowledgeType.REJECT);
        assertSafe(lines.list, 1);
    }
}
