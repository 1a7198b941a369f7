package dev.conveyor.common.test;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.Arrays;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * The lines some classes log while a test runs (from {@link #start} to {@link #close}), and the check that text an
 * attacker wrote (a Kafka record, a header) reached them neither long nor able to forge a line or repaint a terminal.
 */
public final class CapturedLines implements AutoCloseable {

    /**
     * Text that would start a forged log line, clear and repaint the terminal, and turn the rest of a line around
     * (a line break, ANSI escapes, U+202E, U+2028). Tests add it to what a hostile sender writes.
     */
    public static final String FORGED = "\n2026-12-07T00:00:00.000Z  INFO 1 --- [conveyor] [main] forged line"
            + "\u001b[2J\u001b[31m\u202e\u2028";

    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private final List<Logger> loggers;

    private CapturedLines(Class<?>... sources) {
        loggers = Arrays.stream(sources).map(source -> (Logger) LoggerFactory.getLogger(source)).toList();
    }

    /** Captures what the classes log from now until {@link #close()}. */
    public static CapturedLines start(Class<?>... sources) {
        var captured = new CapturedLines(sources);
        captured.lines.start();
        captured.loggers.forEach(logger -> logger.addAppender(captured.lines));
        return captured;
    }

    public List<ILoggingEvent> lines() {
        return lines.list;
    }

    /** Exactly {@code count} lines, each shorter than {@code maxLength}, none holding a character that breaks it. */
    public void assertSafe(int count, int maxLength) {
        assertThat(lines.list).hasSize(count).allSatisfy(line -> {
            var text = line.getFormattedMessage();
            assertThat(text.length()).as(text).isLessThan(maxLength);
            assertThat(text.chars().filter(c -> c < 0x20 || c == 0x7f || c == 0x202e || c == 0x2028).toArray())
                    .as("characters that break the line or a terminal in: %s", text).isEmpty();
        });
    }

    @Override
    public void close() {
        loggers.forEach(logger -> logger.detachAppender(lines));
    }
}
