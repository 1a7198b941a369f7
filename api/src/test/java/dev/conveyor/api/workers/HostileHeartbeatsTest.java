package dev.conveyor.api.workers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.common.message.WorkerHeartbeat;
import dev.conveyor.common.test.CapturedLines;
import dev.conveyor.common.test.TestClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/**
 * What anyone who can write to {@code conveyor.workers} can make the api keep: heartbeats of bounded size, for a
 * bounded number of workers, whatever they write.
 */
class HostileHeartbeatsTest {

    private static final Duration TTL = Duration.ofSeconds(30);

    private final TestClock clock = new TestClock();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final WorkerTable table = new WorkerTable(clock, properties(), meters);
    private CapturedLines lines;

    private static ApiProperties properties() {
        var source = new MapConfigurationPropertySource(Map.of("conveyor.api.worker-ttl", "30s"));
        return new Binder(source).bindOrCreate("conveyor.api", Bindable.of(ApiProperties.class));
    }

    @BeforeEach
    void listen() {
        lines = CapturedLines.start(WorkerTable.class);
    }

    @AfterEach
    void stopListening() {
        lines.close();
    }

    private void beat(String id, List<String> queues, List<String> types) {
        table.heard(id, new WorkerHeartbeat(WorkerHeartbeat.VERSION, id, queues, types, 0, 0,
                clock.instant().minusSeconds(60), clock.instant()), clock.instant(), false);
    }

    private double refused() {
        return meters.get("conveyor.workers.heartbeats.refused").counter().count();
    }

    private static List<String> names(String prefix, int count) {
        return IntStream.range(0, count).mapToObj(i -> prefix + i).toList();
    }

    @Test
    void keepsOnlyTheNamesAJobCanHave() {
        beat("w", List.of("default", "Default", "q".repeat(65), "x".repeat(1 << 20)),
                List.of("echo", "a b", "t".repeat(101), "é"));

        assertThat(table.live()).singleElement().satisfies(worker -> {
            assertThat(worker.queues()).containsExactly("default");
            assertThat(worker.types()).containsExactly("echo");
        });
    }

    @Test
    void refusesAHeartbeatListingMoreThanAThousandQueuesOrTypesAndCountsIt() {
        beat("real", List.of("default"), names("t", HeartbeatNames.MAX_PER_LIST));
        beat("hostile", names("q", HeartbeatNames.MAX_PER_LIST + 1), List.of("echo"));
        beat("hostile2", List.of("default"), names("t", HeartbeatNames.MAX_PER_LIST + 1));

        assertThat(table.live()).extracting(Worker::id).containsExactly("real");
        assertThat(refused()).isEqualTo(2);
        assertThat(lines.lines().size()).isEqualTo(1);
    }

    @Test
    void aRefusedHeartbeatLeavesTheWorkersLastOneInPlace() {
        beat("w", List.of("default"), List.of("echo"));
        beat("w", List.of("default"), names("t", HeartbeatNames.MAX_PER_LIST + 1));

        assertThat(table.live()).singleElement()
                .satisfies(worker -> assertThat(worker.types()).containsExactly("echo"));
    }

    @Test
    void keepsAtMostTenThousandWorkersAndRefusesNewOnesWithOneWarning() {
        for (var i = 0; i < WorkerTable.MAX_WORKERS + 500; i++) {
            beat("w" + i, List.of("default"), List.of("echo"));
        }

        assertThat(table.size()).isEqualTo(WorkerTable.MAX_WORKERS);
        assertThat(table.live()).extracting(Worker::id).contains("w0", "w" + (WorkerTable.MAX_WORKERS - 1))
                .doesNotContain("w" + WorkerTable.MAX_WORKERS);
        assertThat(refused()).isEqualTo(500);
        assertThat(lines.lines().size()).isEqualTo(1);
        lines.assertSafe(1, 1_000);

        // those it keeps still beat
        beat("w0", List.of("default"), List.of("echo", "sleep"));
        assertThat(table.live().getFirst().types()).containsExactly("echo", "sleep");
    }

    @Test
    void aFullTableTakesANewWorkerOnceOthersHaveBeenSilentForTheTtl() {
        for (var i = 0; i < WorkerTable.MAX_WORKERS; i++) {
            beat("w" + i, List.of("default"), List.of("echo"));
        }
        clock.advance(TTL.plusSeconds(1));

        beat("new", List.of("default"), List.of("echo"));

        assertThat(table.live()).extracting(Worker::id).containsExactly("new");
    }

    @Test
    void holdsAtMostAHundredThousandDistinctNamesAndLetsGoOfThoseNoWorkerListsAnyMore() {
        var workers = HeartbeatNames.MAX_DISTINCT / HeartbeatNames.MAX_PER_LIST;
        for (var i = 0; i < workers; i++) {
            beat("hostile" + i, List.of(), names("t" + i + "-", HeartbeatNames.MAX_PER_LIST));
        }
        // names held already are no new ones: a real fleet's workers list the same ones
        beat("real", List.of(), names("t0-", 10));
        beat("another", List.of("default"), List.of("brand-new"));

        assertThat(table.live()).extracting(Worker::id).contains("real").doesNotContain("another");
        assertThat(refused()).isEqualTo(1);

        clock.advance(TTL.plusSeconds(1));
        table.caughtUp(clock.instant());
        beat("another", List.of("default"), List.of("brand-new"));
        assertThat(table.live()).extracting(Worker::id).containsExactly("another");
    }

    @Test
    void holdsAtMostTwoMillionNamesListedByAllWorkersTogether() {
        var types = names("t", HeartbeatNames.MAX_PER_LIST);
        var workers = (int) (WorkerTable.MAX_NAMES_LISTED / HeartbeatNames.MAX_PER_LIST);
        for (var i = 0; i < workers; i++) {
            beat("w" + i, List.of(), types);
        }
        beat("one-more", List.of("default"), List.of());
        // a worker listing fewer names than before is always taken
        beat("w0", List.of(), List.of("echo"));
        beat("one-more", List.of("default"), List.of());

        assertThat(table.live()).extracting(Worker::id).contains("w0", "one-more");
        assertThat(refused()).isEqualTo(1);
    }
}
