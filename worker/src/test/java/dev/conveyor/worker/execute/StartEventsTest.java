package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.common.Json;
import dev.conveyor.common.message.JobEvent;
import dev.conveyor.common.message.JobFinished;
import dev.conveyor.common.message.JobProgress;
import dev.conveyor.common.message.JobStarted;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * A job's start is reported only once it has run for {@code start-event-after}: a short job sends one event, its
 * end, which says when it started; a long one sends its start after the delay and its end later; progress sends the
 * start first.
 */
class StartEventsTest {

    private static final Duration AFTER = Duration.ofMillis(100);

    private static List<JobEvent> eventsOf(RunnerTesting testing, UUID job) {
        return testing.events.all().stream().filter(e -> e.jobId().equals(job)).toList();
    }

    private static JobFinished run(RunnerTesting testing, UUID[] id) throws InterruptedException {
        var job = RunnerTesting.dispatch("t", Json.object(), 30);
        id[0] = job.jobId();
        testing.take(job);
        return await().atMost(Duration.ofSeconds(10)).until(() -> testing.events.finished(job.jobId()),
                finished -> finished != null);
    }

    @Test
    void aShortJobSendsOnlyItsEndWhichSaysWhenItStarted() throws InterruptedException {
        var testing = new RunnerTesting(List.of(RunnerTesting.handler(context -> Json.object())), Map.of(), AFTER);
        var id = new UUID[1];

        var finished = run(testing, id);

        assertThat(eventsOf(testing, id[0])).containsExactly(finished);
        assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.SUCCEEDED);
        assertThat(finished.startedAt()).isNotNull().isBeforeOrEqualTo(finished.at());
    }

    @Test
    void aJobThatRunsLongerSendsItsStartAfterTheDelayThenItsEnd() throws InterruptedException {
        var release = new CountDownLatch(1);
        var testing = new RunnerTesting(List.of(RunnerTesting.handler(context -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return Json.object();
        })), Map.of(), AFTER);
        var job = RunnerTesting.dispatch("t", Json.object(), 30);
        var takenAt = System.nanoTime();
        testing.take(job);

        var start = await().atMost(Duration.ofSeconds(10)).until(() -> eventsOf(testing, job.jobId()),
                events -> !events.isEmpty()).getFirst();
        var startAfter = Duration.ofNanos(System.nanoTime() - takenAt);
        release.countDown();
        var finished = await().atMost(Duration.ofSeconds(10)).until(() -> testing.events.finished(job.jobId()),
                f -> f != null);

        assertThat(start).isInstanceOf(JobStarted.class);
        assertThat(startAfter).isGreaterThanOrEqualTo(AFTER);
        assertThat(eventsOf(testing, job.jobId())).containsExactly(start, finished);
        assertThat(finished.startedAt()).isEqualTo(((JobStarted) start).at());
    }

    @Test
    void progressSendsTheStartFirst() throws InterruptedException {
        var testing = new RunnerTesting(List.of(RunnerTesting.handler(context -> {
            context.progress(0.5, "half");
            return Json.object();
        })), Map.of(), Duration.ofMillis(500));
        var id = new UUID[1];

        var finished = run(testing, id);

        var events = eventsOf(testing, id[0]);
        assertThat(events).hasSize(3);
        assertThat(events.get(0)).isInstanceOf(JobStarted.class);
        assertThat(events.get(1)).isInstanceOf(JobProgress.class);
        assertThat(events.get(2)).isEqualTo(finished);
    }

    @Test
    void withNoDelayEveryStartIsSentAtOnce() throws InterruptedException {
        var testing = new RunnerTesting(List.of(RunnerTesting.handler(context -> Json.object())), Map.of(),
                Duration.ZERO);
        var id = new UUID[1];

        var finished = run(testing, id);

        var events = eventsOf(testing, id[0]);
        assertThat(events).hasSize(2);
        assertThat(events.getFirst()).isInstanceOf(JobStarted.class);
        assertThat(events.getLast()).isEqualTo(finished);
    }
}
