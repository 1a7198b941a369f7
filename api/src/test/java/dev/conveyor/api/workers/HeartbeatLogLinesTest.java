package dev.conveyor.api.workers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import dev.conveyor.common.message.WorkerHeartbeat;
import dev.conveyor.common.test.CapturedLines;
import dev.conveyor.common.test.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;

/**
 * What anyone who can write to {@code conveyor.workers} can put in the api's log through a worker's key (its id):
 * lines of bounded length that cannot forge another line, repaint a terminal or reorder what a reader sees.
 */
class HeartbeatLogLinesTest {

    private static final String HOSTILE_ID = "w\n2026-12-07T00:00:00.000Z  INFO 1 --- [conveyor-api] forged line"
            + "\u001b[2J\u202e\u2028" + "x".repeat(300);

    private final TestClock clock = new TestClock();
    private final WorkerTable table = new WorkerTable(clock, properties());
    private final HeartbeatReader reader = new HeartbeatReader(table, clock, new KafkaProperties());
    private CapturedLines lines;
    private long offset;

    private static ApiProperties properties() {
        var source = new MapConfigurationPropertySource(Map.of("conveyor.api.worker-ttl", "30s"));
        return new Binder(source).bindOrCreate("conveyor.api", Bindable.of(ApiProperties.class));
    }

    @BeforeEach
    void listen() {
        lines = CapturedLines.start(HeartbeatReader.class, WorkerTable.class);
    }

    @AfterEach
    void stopListening() {
        lines.close();
    }

    private void record(String key, String value) {
        reader.apply(new ConsumerRecord<>(Topics.WORKERS, 0, offset++, key, value), false);
    }

    private void beat(String id, Instant startedAt) {
        record(id, Json.write(new WorkerHeartbeat(WorkerHeartbeat.VERSION, id, List.of("q"), List.of("echo"), 0, 0,
                startedAt, clock.instant())));
        clock.advance(Duration.ofSeconds(1));
    }

    private void assertSafe(int count) {
        lines.assertSafe(count, 2_000);
    }

    @Test
    void anUnreadableHeartbeatIsLoggedOnOneShortLine() {
        record(HOSTILE_ID + "y".repeat(1 << 20), "{\"startedAt\": \"" + HOSTILE_ID.replace("\n", "\\n")
                .replace("\u001b", "\\u001b") + "\"}");

        assertSafe(1);
    }

    @Test
    void unreadableHeartbeatsAreLoggedAtMostOnceAMinute() {
        // anyone who can write to the topic can write a thousand a second: a line each filled the log
        for (var i = 0; i < 1_000; i++) {
            record("w" + i, "not json");
        }
        record(null, "not json either");
        record("tombstone", null);

        assertSafe(1);
    }

    @Test
    void twoProcessesUnderAHostileIdAreLoggedOnOneShortLine() {
        var one = clock.instant().minusSeconds(100);
        var two = clock.instant().minusSeconds(50);
        for (var i = 0; i < 3; i++) {
            beat(HOSTILE_ID, one);
            beat(HOSTILE_ID, two);
        }

        assertThat(table.sharedIds()).isEqualTo(1);
        assertSafe(1);
    }
}
