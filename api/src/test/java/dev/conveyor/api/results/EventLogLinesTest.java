package dev.conveyor.api.results;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * What anyone who can write to {@code conveyor.events} can put in the api's log through an event it cannot read: one
 * line per event, of bounded length, that cannot forge another line (a line break), repaint a terminal (an ANSI
 * escape) or reorder what a reader sees (a bidi control).
 */
class EventLogLinesTest {

    private static final String FORGED = "\n2026-12-07T00:00:00.000Z  INFO 1 --- [conveyor-api] [main] forged line"
            + "\u001b[2J\u001b[31m\u202e\u2028";

    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(EventReader.class);

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
    void anEventThatIsNotJsonIsLoggedOnOneLine() {
        var text = "not json" + FORGED + "x".repeat(1 << 20);

        assertThat(EventReader.read(text, Instant.now())).isEmpty();

        assertSafe(lines.list, 1);
    }

    @Test
    void anEventOfAnUnknownKindIsLoggedOnOneLine() {
        var text = "{\"event\": \"nope" + FORGED.replace("\n", "\\n").replace("\u001b", "\\u001b") + "\"}";

        assertThat(EventReader.read(text, Instant.now())).isEmpty();

        assertSafe(lines.list, 1);
    }

    @Test
    void anEventWithoutAJobIsLoggedOnOneLine() {
        var text = "{\"event\": \"started\"," + FORGED.replace("\u001b", " ").replace("\u202e", " ")
                .replace("\u2028", " ").replace("[", " ").replace("]", " ").replace("-", " ").replace(":", " ")
                .replace(".", " ").replaceAll("[0-9A-Za-z]", " ") + "\"attempt\": 0}";

        assertThat(EventReader.read(text, Instant.now())).isEmpty();

        assertSafe(lines.list, 1);
    }

    @Test
    void aFinishedEventThatCannotBeReadIsLoggedOnOneLine() {
        var text = "{\"event\": \"finished\", \"jobId\": \"" + UUID.randomUUID() + "\", \"attempt\": 1, \"outcome\": \"X"
                + FORGED.replace("\n", "\\n").replace("\u001b", "\\u001b") + "\"}";

        assertThat(EventReader.read(text, Instant.now())).isPresent();

        assertSafe(lines.list, 1);
    }
}
