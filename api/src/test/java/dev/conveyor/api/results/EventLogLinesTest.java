package dev.conveyor.api.results;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.test.CapturedLines;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What anyone who can write to {@code conveyor.events} can put in the api's log through an event it cannot read: at
 * most one line a minute of each kind, of bounded length, that cannot forge another line (a line break), repaint a
 * terminal (an ANSI escape) or reorder what a reader sees (a bidi control).
 */
class EventLogLinesTest {

    private static final String FORGED = CapturedLines.FORGED;

    private CapturedLines lines;
    /** Lines of this test's own, each of whose kinds is let through once a minute. */
    private final EventReader.Lines fresh = new EventReader.Lines(Duration.ofMinutes(1));

    @BeforeEach
    void listen() {
        lines = CapturedLines.start(EventReader.class);
    }

    @AfterEach
    void stopListening() {
        lines.close();
    }

    @Test
    void anEventThatIsNotJsonIsLoggedOnOneLine() {
        var text = "not json" + FORGED + "x".repeat(1 << 20);

        assertThat(EventReader.read(text, Instant.now(), fresh)).isEmpty();

        lines.assertSafe(1, 4_000);
    }

    @Test
    void aRecordWithoutAValueIsSkippedOnOneLine() {
        // a tombstone anyone can write to conveyor.events: it must not stop the batch it comes in
        assertThat(EventReader.read(null, Instant.now(), fresh)).isEmpty();

        lines.assertSafe(1, 4_000);
    }

    @Test
    void anEventOfAnUnknownKindIsLoggedOnOneLine() {
        var text = "{\"event\": \"nope" + FORGED.replace("\n", "\\n").replace("\u001b", "\\u001b") + "\"}";

        assertThat(EventReader.read(text, Instant.now(), fresh)).isEmpty();

        lines.assertSafe(1, 4_000);
    }

    @Test
    void anEventWithoutAJobIsLoggedOnOneLine() {
        var text = "{\"event\": \"started\"," + FORGED.replace("\u001b", " ").replace("\u202e", " ")
                .replace("\u2028", " ").replace("[", " ").replace("]", " ").replace("-", " ").replace(":", " ")
                .replace(".", " ").replaceAll("[0-9A-Za-z]", " ") + "\"attempt\": 0}";

        assertThat(EventReader.read(text, Instant.now(), fresh)).isEmpty();

        lines.assertSafe(1, 4_000);
    }

    @Test
    void aFinishedEventThatCannotBeReadIsLoggedOnOneLine() {
        var text = "{\"event\": \"finished\", \"jobId\": \"" + UUID.randomUUID()
                + "\", \"attempt\": 1, \"outcome\": \"X" + FORGED.replace("\n", "\\n").replace("\u001b", "\\u001b")
                + "\"}";

        assertThat(EventReader.read(text, Instant.now(), fresh)).isPresent();

        lines.assertSafe(1, 4_000);
    }

    @Test
    void unreadableEventsAreLoggedAtMostOnceAMinuteForEachKind() {
        // anyone who can write to conveyor.events can write a thousand a second: a line each filled the api's log
        for (var i = 0; i < 1_000; i++) {
            assertThat(EventReader.read("not json " + i, Instant.now(), fresh)).isEmpty();
            assertThat(EventReader.read("{\"v\": 1, \"event\": \"started\", \"attempt\": " + i + "}",
                    Instant.now(), fresh)).isEmpty();
            assertThat(EventReader.read("{\"event\": \"finished\", \"jobId\": \"" + UUID.randomUUID()
                    + "\", \"attempt\": 1, \"outcome\": \"X\"}", Instant.now(), fresh)).isPresent();
        }

        lines.assertSafe(3, 4_000);
    }
}
