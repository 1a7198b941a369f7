package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Marks that cannot be written (the database is away for a moment) are kept and written later, within a bound, and
 * at shutdown within a bounded wait. (A lost mark is no lost job, but the poller publishes it a second time.)
 */
class DispatchMarksTest {

    private static final DispatchMarks.Limits FAST = new DispatchMarks.Limits(10, Duration.ofMillis(10),
            Duration.ofMillis(50), Duration.ofSeconds(2));

    /** A database that refuses the first {@code failures} writes, then takes them. */
    private static final class FlakyDatabase implements DispatchMarks.Writer {

        final List<DispatchMark> written = new CopyOnWriteArrayList<>();
        final AtomicInteger failures;
        final AtomicInteger tries = new AtomicInteger();

        FlakyDatabase(int failures) {
            this.failures = new AtomicInteger(failures);
        }

        @Override
        public void write(List<DispatchMark> marks) {
            tries.incrementAndGet();
            if (failures.getAndDecrement() > 0) {
                throw new IllegalStateException("connection refused");
            }
            written.addAll(marks);
        }
    }

    private DispatchMarks marks;

    @AfterEach
    void stop() {
        if (marks != null && marks.isRunning()) {
            marks.stop();
        }
    }

    private static List<DispatchMark> someMarks(int n) {
        var list = new ArrayList<DispatchMark>();
        IntStream.range(0, n).forEach(i -> list.add(new DispatchMark(UUID.randomUUID(), 0, 0, i % 3, i)));
        return list;
    }

    /** A short delay, for tests that wait for marks to be written after it. */
    private static final Duration SHORT_DELAY = Duration.ofMillis(300);

    /**
     * A delay no test outlasts, so that only {@link DispatchMarks#stop} writes the marks: for tests that settle marks
     * before they are written. Within a short delay they would be at the mercy of the machine: a test thread held up
     * past the delay between its adds and its settles (CI's two test JVMs share two cores) sees every mark written.
     */
    private static final Duration HELD_TILL_STOP = Duration.ofMinutes(10);

    /** Starts {@link #marks} on {@code database}, each mark waiting {@code delay} before it is written. */
    private void start(FlakyDatabase database, Duration delay) {
        marks = new DispatchMarks(database, new DispatchMarks.Limits(100, Duration.ofMillis(10), Duration.ofMillis(50),
                Duration.ofSeconds(2), delay));
        marks.start();
    }

    private void add(List<DispatchMark> list) {
        list.forEach(m -> marks.add(m.id(), m.generation(), m.attempts(), m.handBacks(), m.partition(), m.offset()));
    }

    @Test
    void aBatchThatFailsIsWrittenOnceTheDatabaseIsBack() {
        var database = new FlakyDatabase(3);
        marks = new DispatchMarks(database, FAST);
        marks.start();
        var expected = someMarks(5);

        add(expected);

        await().atMost(Duration.ofSeconds(10)).until(() -> database.written.size() == expected.size());
        assertThat(database.written).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(database.tries.get()).isGreaterThanOrEqualTo(4);
    }

    /** While the database is away the tries are many: one warning as they begin to fail, one line once they pass. */
    @Test
    void aBatchThatFailsIsLoggedOnceAsItBeginsToFailAndOnceWhenItIsWritten() {
        var logged = new ListAppender<ILoggingEvent>();
        var logger = (Logger) LoggerFactory.getLogger(DispatchMarks.class);
        logger.setLevel(Level.INFO);
        logger.addAppender(logged);
        logged.start();
        try {
            var database = new FlakyDatabase(4);
            marks = new DispatchMarks(database, FAST);
            marks.start();
            add(someMarks(3));

            // the line that says so comes just after the write (ListAppender appends under its own lock)
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                synchronized (logged) {
                    return database.written.size() == 3 && logged.list.size() >= 2;
                }
            });
            assertThat(database.tries.get()).isGreaterThanOrEqualTo(5);
        } finally {
            logger.detachAppender(logged);
            logger.setLevel(null);
        }
        assertThat(logged.list).extracting(ILoggingEvent::getLevel).containsExactly(Level.WARN, Level.INFO);
        assertThat(logged.list.getFirst().getFormattedMessage()).startsWith("Recording dispatched jobs failed; ")
                .endsWith(": connection refused");
        assertThat(logged.list.getLast().getFormattedMessage())
                .startsWith("Recording dispatched jobs works again, after 4 tries failed");
    }

    @Test
    void marksBeyondTheBoundAreDroppedNotHeld() {
        var database = new FlakyDatabase(Integer.MAX_VALUE);
        marks = new DispatchMarks(database, FAST);
        var all = someMarks(25);

        add(all); // not started: the first 10 wait, the rest find the queue full
        marks.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> database.tries.get() >= 2);
        database.failures.set(0);

        await().atMost(Duration.ofSeconds(10)).until(() -> database.written.size() >= 10);
        assertThat(database.written).containsExactlyInAnyOrderElementsOf(all.subList(0, 10));
    }

    @Test
    void marksStillWaitingAtShutdownAreWrittenBeforeItEnds() {
        var database = new FlakyDatabase(2);
        marks = new DispatchMarks(database, FAST);
        marks.start();
        var expected = someMarks(7);
        add(expected);

        marks.stop();

        assertThat(database.written).containsExactlyInAnyOrderElementsOf(expected);
    }

    @Test
    void shutdownWaitsNoLongerThanItsBoundForADatabaseThatStaysAway() {
        var database = new FlakyDatabase(Integer.MAX_VALUE);
        marks = new DispatchMarks(database, FAST);
        marks.start();
        add(someMarks(3));
        await().atMost(Duration.ofSeconds(10)).until(() -> database.tries.get() >= 1);

        var began = System.nanoTime();
        marks.stop();

        assertThat(Duration.ofNanos(System.nanoTime() - began)).isLessThan(FAST.shutdownWait().plusSeconds(2));
        assertThat(database.written).isEmpty();
    }

    @Test
    void aMarkWhoseAttemptAWorkerReportedWithinTheDelayIsNeverWritten() {
        var database = new FlakyDatabase(0);
        start(database, HELD_TILL_STOP);
        var started = new DispatchMark(UUID.randomUUID(), 0, 0, 0, 1);
        var staleReport = new DispatchMark(UUID.randomUUID(), 0, 2, 1, 2);
        var waiting = new DispatchMark(UUID.randomUUID(), 0, 0, 2, 3);
        var retried = new DispatchMark(UUID.randomUUID(), 1, 0, 0, 4);
        add(List.of(started, staleReport, waiting, retried));

        marks.settled(started.id(), 0, 1); // the start of its first attempt
        marks.settled(staleReport.id(), 0, 2); // an event of attempt 2, published again as attempt 3 since
        marks.settled(retried.id(), 0, 1); // a record from before an operator's cancel and retry, run late
        marks.stop();

        assertThat(database.written).containsExactlyInAnyOrder(staleReport, waiting, retried);
    }

    /**
     * A job given back unstarted is published again under the same attempt, with one more hand-back: the hand-back
     * (read once more, say) settles the mark of the dispatch it gave back, never the mark of the one after it.
     */
    @Test
    void aHandBackSettlesTheMarkOfTheDispatchItGaveBackOnly() {
        var database = new FlakyDatabase(0);
        start(database, HELD_TILL_STOP);
        var givenBack = new DispatchMark(UUID.randomUUID(), 0, 0, 2, 0, 1);
        var next = new DispatchMark(UUID.randomUUID(), 0, 0, 3, 1, 2);
        add(List.of(givenBack, next));

        marks.settled(givenBack.id(), 0, 1, 2); // the hand-back of the dispatch after two hand-backs
        marks.settled(next.id(), 0, 1, 2); // the same hand-back, read again after the next dispatch
        marks.stop();

        assertThat(database.written).containsExactly(next);
    }

    @Test
    void aMarkOfAGenerationBeforeARetryPublishedAfterItLeavesTheRetrysMarkToBeWritten() {
        var database = new FlakyDatabase(0);
        start(database, SHORT_DELAY);
        var job = UUID.randomUUID();
        // cancelled on another instance and retried on this one, whose backlog, not yet told of the cancel, then
        // publishes the cancelled generation after the retry
        var retry = new DispatchMark(job, 1, 0, 0, 7);
        var cancelled = new DispatchMark(job, 0, 0, 0, 8);
        var marker = new DispatchMark(UUID.randomUUID(), 0, 0, 1, 9);
        add(List.of(retry, cancelled, marker));

        // the retry unmarked waited out its lease, and the poller published it a second time
        await().atMost(Duration.ofSeconds(10)).until(() -> database.written.contains(marker));
        assertThat(database.written).containsExactlyInAnyOrder(retry, marker);
    }

    @Test
    void marksWaitForTheirDelayButAllAreWrittenAtShutdown() {
        var database = new FlakyDatabase(0);
        start(database, HELD_TILL_STOP);
        var expected = someMarks(4);
        add(expected);
        marks.settled(expected.getFirst().id(), 0, 1);

        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> database.written.isEmpty());
        marks.stop();

        assertThat(database.written).containsExactlyInAnyOrderElementsOf(expected.subList(1, 4));
    }
}
