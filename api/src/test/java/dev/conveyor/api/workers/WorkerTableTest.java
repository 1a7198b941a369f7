package dev.conveyor.api.workers;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.conveyor.api.ApiProperties;
import dev.conveyor.common.message.WorkerHeartbeat;
import dev.conveyor.common.test.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** Which heartbeats count as fresh, judged by the api's clock. */
class WorkerTableTest {

    private static final Duration TTL = Duration.ofSeconds(30);

    private final TestClock clock = new TestClock();
    private final WorkerTable table = new WorkerTable(clock, properties());

    private static ApiProperties properties() {
        var source = new MapConfigurationPropertySource(Map.of("conveyor.api.worker-ttl", "30s"));
        return new Binder(source).bindOrCreate("conveyor.api", Bindable.of(ApiProperties.class));
    }

    private static WorkerHeartbeat heartbeat(String id, Instant at) {
        return new WorkerHeartbeat(WorkerHeartbeat.VERSION, id, List.of("q"), List.of("echo"), 1, 2,
                at.minusSeconds(60), at);
    }

    private java.util.Optional<java.util.Set<String>> aliveIds() {
        return table.aliveIfCurrent().map(LiveWorkers.Alive::ids);
    }

    /** Reads the topic up to date every half second for {@code duration}. */
    private void readUpToDateFor(Duration duration) {
        for (var t = Duration.ZERO; t.compareTo(duration) < 0; t = t.plusMillis(500)) {
            table.caughtUp(clock.instant());
            clock.advance(Duration.ofMillis(500));
        }
        table.caughtUp(clock.instant());
    }

    private List<String> liveIds() {
        return table.live().stream().map(Worker::id).toList();
    }

    @Nested
    class LiveHeartbeats {

        @Test
        void countAsSeenWhenTheyArriveWhateverTheWorkersClockSays() {
            var anHourBehind = clock.instant().minus(Duration.ofHours(1));
            table.heard("w", heartbeat("w", anHourBehind), anHourBehind, false);

            assertThat(table.live()).singleElement()
                    .satisfies(worker -> assertThat(worker.lastSeenAt()).isEqualTo(clock.instant()));
        }

        @Test
        void keepAWorkerListedForExactlyTheTtl() {
            table.heard("w", heartbeat("w", clock.instant()), clock.instant(), false);

            clock.advance(TTL);
            assertThat(liveIds()).containsExactly("w");
            clock.advance(Duration.ofMillis(1));
            assertThat(liveIds()).isEmpty();
        }

        @Test
        void aNewerHeartbeatRenewsTheWorker() {
            table.heard("w", heartbeat("w", clock.instant()), clock.instant(), false);
            clock.advance(TTL);
            table.heard("w", heartbeat("w", clock.instant()), clock.instant(), false);
            clock.advance(TTL);

            assertThat(liveIds()).containsExactly("w");
        }
    }

    @Nested
    class Backlog {

        @Test
        void aDeadWorkersLastHeartbeatIsNotListed() {
            var longAgo = clock.instant().minus(Duration.ofHours(3));
            table.heard("dead", heartbeat("dead", longAgo), longAgo, true);

            assertThat(liveIds()).isEmpty();
        }

        @Test
        void aRecentHeartbeatCountsAsSeenWhenItWasSent() {
            var recently = clock.instant().minusSeconds(10);
            table.heard("w", heartbeat("w", recently), recently, true);

            assertThat(table.live()).singleElement()
                    .satisfies(worker -> assertThat(worker.lastSeenAt()).isEqualTo(recently));
        }

        @Test
        void aTimestampAheadOfThisClockCountsAsNow() {
            var ahead = clock.instant().plus(Duration.ofHours(1));
            table.heard("w", heartbeat("w", ahead), ahead, true);

            assertThat(table.live()).singleElement()
                    .satisfies(worker -> assertThat(worker.lastSeenAt()).isEqualTo(clock.instant()));
        }
    }

    /** Workers that died without a tombstone are forgotten as the topic is read, not only when someone lists them. */
    @Test
    void readingTheTopicForgetsWorkersSilentForATtl() {
        table.heard("dead", heartbeat("dead", clock.instant()), clock.instant(), false);
        table.caughtUp(clock.instant());
        for (var i = 0; i < 2 * TTL.toSeconds(); i++) {
            clock.advance(Duration.ofSeconds(1));
            table.heard("alive", heartbeat("alive", clock.instant()), clock.instant(), false);
            table.caughtUp(clock.instant());
        }

        assertThat(table.size()).isEqualTo(1);
        assertThat(liveIds()).containsExactly("alive");
    }

    @Test
    void aTombstoneForgetsTheWorker() {
        table.heard("a", heartbeat("a", clock.instant()), clock.instant(), false);
        table.heard("b", heartbeat("b", clock.instant()), clock.instant(), false);

        table.forget("a");

        assertThat(liveIds()).containsExactly("b");
    }

    @Test
    void listsByIdWithMissingListsAsEmpty() {
        var bare = new WorkerHeartbeat(1, "c", null, null, 0, 0, null, null);
        table.heard("c", bare, clock.instant(), false);
        table.heard("a", heartbeat("a", clock.instant()), clock.instant(), false);

        assertThat(liveIds()).containsExactly("a", "c");
        assertThat(table.live().get(1).queues()).isEmpty();
    }

    /** The rescuer's question: which workers are alive, asked only when silence would mean something. */
    @Nested
    class Evidence {

        private static final Duration LOST_AFTER = Duration.ofSeconds(5);

        @Test
        void isNoneBeforeTheTopicHasBeenReadUpToDate() {
            assertThat(table.aliveIfCurrent()).isEmpty();
        }

        @Test
        void isNoneUntilTheTopicHasBeenReadUpToDateForAWholeLostAfter() {
            readUpToDateFor(LOST_AFTER.minusMillis(500));
            assertThat(table.aliveIfCurrent()).isEmpty();

            clock.advance(Duration.ofMillis(500));
            table.caughtUp(clock.instant());
            assertThat(aliveIds()).hasValue(java.util.Set.of());
        }

        @Test
        void namesTheWorkersHeardWithinLostAfter() {
            table.heard("quiet", heartbeat("quiet", clock.instant()), clock.instant(), false);
            readUpToDateFor(LOST_AFTER.minusSeconds(1));
            table.heard("busy", heartbeat("busy", clock.instant()), clock.instant(), false);
            readUpToDateFor(Duration.ofSeconds(2));

            assertThat(aliveIds()).hasValue(java.util.Set.of("busy"));
        }

        @Test
        void namesTheWorkersHeardAndSilentSinceAsGoneAndSaysHowFarItHasRead() {
            table.heard("dead", heartbeat("dead", clock.instant()), clock.instant(), false);
            table.heard("stopped", heartbeat("stopped", clock.instant()), clock.instant(), false);
            table.forget("stopped"); // its tombstone
            readUpToDateFor(LOST_AFTER.plusSeconds(1));
            table.heard("busy", heartbeat("busy", clock.instant()), clock.instant(), false);
            var read = clock.instant();
            table.caughtUp(read);

            var alive = table.aliveIfCurrent().orElseThrow();
            assertThat(alive.ids()).containsExactly("busy");
            // not one never heard, nor one that said it stopped: only what this instance saw beat and fall silent
            assertThat(alive.gone()).containsExactly("dead");
            assertThat(alive.readUpTo()).isEqualTo(read);

            table.heard("dead", heartbeat("dead", clock.instant()), clock.instant(), false);
            assertThat(table.aliveIfCurrent().orElseThrow().gone()).as("heard again").isEmpty();
        }

        @Test
        void saysWhetherALiveWorkerTakesATypeFromAQueue() {
            assertThat(table.runsSomewhere("q", "echo")).as("nothing read yet").isEmpty();
            // heartbeat(...) lists queue q and type echo
            table.heard("dead", heartbeat("dead", clock.instant()), clock.instant(), false);
            readUpToDateFor(LOST_AFTER.plusSeconds(1));
            assertThat(table.runsSomewhere("q", "echo")).as("its only worker gone").hasValue(false);

            table.heard("live", heartbeat("live", clock.instant()), clock.instant(), false);
            table.caughtUp(clock.instant());
            assertThat(table.runsSomewhere("q", "echo")).hasValue(true);
            assertThat(table.runsSomewhere("q", "greet")).as("a type no worker has").hasValue(false);
            assertThat(table.runsSomewhere("other", "echo")).as("a queue no worker takes").hasValue(false);
        }

        @Test
        void countsAReadAsOfWhenItsEndsWereAskedForNotWhenTheyWereReached() {
            readUpToDateFor(LOST_AFTER);
            clock.advance(Duration.ofSeconds(1));
            var asked = clock.instant();

            // the positions reach the ends asked for 3.5 s later: that read shows nothing about those 3.5 s
            clock.advance(Duration.ofMillis(3500));
            table.caughtUp(asked);
            assertThat(table.aliveIfCurrent()).isEmpty();
        }

        @Test
        void isNoneWhileKafkaCannotBeRead() {
            table.heard("w", heartbeat("w", clock.instant()), clock.instant(), false);
            readUpToDateFor(LOST_AFTER);

            // Kafka goes away for 30 s: no read is up to date, every worker falls silent
            clock.advance(Duration.ofSeconds(30));
            assertThat(table.aliveIfCurrent()).as("during the outage").isEmpty();

            // Kafka is back: silence counts again only after a whole lostAfter of reading, by when live workers
            // have been heard again
            readUpToDateFor(LOST_AFTER.minusSeconds(1));
            assertThat(table.aliveIfCurrent()).as("just after the outage").isEmpty();
            table.heard("w", heartbeat("w", clock.instant()), clock.instant(), false);
            readUpToDateFor(Duration.ofSeconds(1));
            assertThat(aliveIds()).hasValue(java.util.Set.of("w"));
        }

        private void beat(String id, Instant startedAt) {
            table.heard(id, new WorkerHeartbeat(WorkerHeartbeat.VERSION, id, List.of("q"), List.of("echo"), 0, 0,
                    startedAt, clock.instant()), clock.instant(), false);
        }

        /** Each of {@code processes} beats under {@code id} in turn, the topic read up to date every half second. */
        private void beatFor(Duration duration, String id, Instant... processes) {
            var n = 0;
            for (var t = Duration.ZERO; t.compareTo(duration) < 0; t = t.plusMillis(500)) {
                beat(id, processes[n++ % processes.length]);
                table.caughtUp(clock.instant());
                clock.advance(Duration.ofMillis(500));
            }
            table.caughtUp(clock.instant());
        }

        private Map<String, Instant> startedAt() {
            return table.aliveIfCurrent().orElseThrow().startedAt();
        }

        @Test
        void saysWhenTheOneProcessUnderEachIdStarted() {
            var started = Instant.parse("2026-12-01T10:00:00.123456Z");
            beatFor(LOST_AFTER, "w", started);

            assertThat(startedAt()).containsExactly(Map.entry("w", Instant.parse("2026-12-01T10:00:00.123Z")));
        }

        @Test
        void namesARestartedIdsNewProcessOnceTheOneBeforeHasBeenSilentForLostAfter() {
            var before = clock.instant().minusSeconds(600);
            var after = clock.instant();
            beatFor(LOST_AFTER, "w", before);

            // restarted under the same id: until the process before has been silent for a whole lostAfter it may
            // still be alive (taking turns), and the attempts under the id cannot be told apart
            beatFor(LOST_AFTER.minusSeconds(1), "w", after);
            assertThat(aliveIds()).hasValue(java.util.Set.of("w"));
            assertThat(startedAt()).isEmpty();

            beatFor(Duration.ofSeconds(1), "w", after);
            assertThat(startedAt()).containsExactly(Map.entry("w", after));
        }

        @Test
        void namesNoProcessThatSaysItStartedAfterNowOrInAnAbsurdYear() {
            // a clock ahead, or a forged heartbeat: taken at its word, every attempt under the id would look older
            var ahead = clock.instant().plusSeconds(60);
            for (var t = Duration.ZERO; t.compareTo(LOST_AFTER) <= 0; t = t.plusMillis(500)) {
                beat("ahead", ahead);
                beat("far", Instant.parse("+100000-01-01T00:00:00Z"));
                beat("before-1970", Instant.parse("-0001-01-01T00:00:00Z"));
                beat("unsaid", null);
                table.caughtUp(clock.instant());
                clock.advance(Duration.ofMillis(500));
            }
            table.caughtUp(clock.instant());

            assertThat(aliveIds()).hasValue(java.util.Set.of("ahead", "far", "before-1970", "unsaid"));
            assertThat(startedAt()).isEmpty();
        }

        @Test
        void namesNoProcessForAnIdThatTwoLiveProcessesShare() {
            beatFor(LOST_AFTER.multipliedBy(2), "w", clock.instant().minusSeconds(600), clock.instant());

            assertThat(aliveIds()).hasValue(java.util.Set.of("w"));
            assertThat(startedAt()).isEmpty();
        }
    }

    /**
     * A worker whose heartbeat-interval is longer than a third of the api's worker-lost-after: before, it was taken
     * for dead between two beats (and each of its running attempts run again beside it).
     */
    @Nested
    class SlowHeartbeats {

        private void beat(String id, Long intervalMillis) {
            table.heard(id, new WorkerHeartbeat(WorkerHeartbeat.VERSION, id, List.of("q"), List.of("echo"), 1, 0,
                    clock.instant().minusSeconds(60), clock.instant(), intervalMillis), clock.instant(), false);
        }

        @Test
        void aWorkerThatBeatsEveryTenSecondsIsAliveBetweenItsBeatsAndGoneAfterThree() {
            var logged = new ListAppender<ILoggingEvent>();
            var logger = (Logger) LoggerFactory.getLogger(WorkerTable.class);
            logger.addAppender(logged);
            logged.start();
            try {
                beat("slow", 10_000L);
                beat("slow", 10_000L);
                beat("usual", 1_000L);
                beat("old", null); // a worker that does not say
            } finally {
                logger.detachAppender(logged);
            }
            assertThat(logged.list).singleElement().satisfies(event -> assertThat(event.getFormattedMessage())
                    .contains("Worker slow sends a heartbeat every 10000 ms", "after 30 s", "heartbeat-interval"));

            readUpToDateFor(Duration.ofSeconds(9));
            var alive = table.aliveIfCurrent().orElseThrow();
            assertThat(alive.ids()).containsExactly("slow");
            assertThat(alive.gone()).containsExactlyInAnyOrder("usual", "old");
            assertThat(table.runsSomewhere("q", "echo")).hasValue(true);

            beat("slow", 10_000L);
            readUpToDateFor(Duration.ofSeconds(29));
            assertThat(aliveIds()).hasValue(java.util.Set.of("slow"));
            readUpToDateFor(Duration.ofSeconds(2));
            assertThat(table.aliveIfCurrent().orElseThrow().gone()).contains("slow");
        }

        @Test
        void aWorkerBeatingLessOftenThanTheTtlStaysListedBetweenItsBeats() {
            beat("slow", 50_000L);
            clock.advance(TTL.plusSeconds(15));
            assertThat(liveIds()).containsExactly("slow");
            clock.advance(Duration.ofSeconds(106));
            assertThat(liveIds()).isEmpty();
        }

        @Test
        void anIntervalPastAMinuteEarnsNoMoreThanThreeMinutes() {
            beat("forged", Duration.ofDays(365).toMillis());
            readUpToDateFor(WorkerTable.MAX_SILENCE.minusSeconds(1));
            assertThat(aliveIds()).hasValue(java.util.Set.of("forged"));
            readUpToDateFor(Duration.ofSeconds(2));
            assertThat(table.aliveIfCurrent().orElseThrow().gone()).containsExactly("forged");

            beat("negative", -5L);
            readUpToDateFor(Duration.ofSeconds(6));
            assertThat(table.aliveIfCurrent().orElseThrow().gone()).contains("negative");
        }
    }

    @Nested
    class SharedIds {

        private final Instant one = clock.instant().minusSeconds(100);
        private final Instant two = clock.instant().minusSeconds(50);

        private void beat(Instant startedAt) {
            table.heard("w", new WorkerHeartbeat(WorkerHeartbeat.VERSION, "w", List.of("q"), List.of("echo"), 0, 0,
                    startedAt, clock.instant()), clock.instant(), false);
            clock.advance(Duration.ofSeconds(1));
        }

        @Test
        void twoLiveProcessesTakingTurnsUnderOneIdAreCountedAndLoggedOnce() {
            var logged = new ListAppender<ILoggingEvent>();
            var logger = (Logger) LoggerFactory.getLogger(WorkerTable.class);
            logger.addAppender(logged);
            logged.start();
            try {
                for (var i = 0; i < 5; i++) {
                    beat(one);
                    beat(two);
                }
            } finally {
                logger.detachAppender(logged);
            }

            assertThat(table.sharedIds()).isEqualTo(1);
            assertThat(logged.list).singleElement().satisfies(event -> assertThat(event.getFormattedMessage())
                    .contains("Two worker processes use the id w", "conveyor.worker.id"));

            // one of them stopped for good: the count clears once the TTL has passed without turns
            for (var i = 0; i < TTL.toSeconds() + 1; i++) {
                beat(two);
            }
            assertThat(table.sharedIds()).isZero();
        }

        @Test
        void aProcessThatReplacesAnotherUnderItsIdIsNoSharing() {
            beat(one);
            beat(one);
            for (var i = 0; i < 5; i++) {
                beat(two);
            }

            assertThat(table.sharedIds()).isZero();
            assertThat(table.live()).singleElement()
                    .satisfies(worker -> assertThat(worker.startedAt()).isEqualTo(two));
        }
    }
}
