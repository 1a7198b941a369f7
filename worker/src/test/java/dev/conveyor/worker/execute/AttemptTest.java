package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import dev.conveyor.common.message.JobError;
import dev.conveyor.common.message.JobFinished;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * An attempt's handler runs on the job's own thread; an end decided while it runs (deadline, cancel, shutdown) is
 * reported from a thread of its own at once, once, whatever the handler does next.
 */
class AttemptTest {

    private static JobContext context(long deadlineMillis) {
        return new JobContext(UUID.randomUUID(), "t", "default", 1, 3, Json.object(),
                Instant.now().plusMillis(deadlineMillis));
    }

    /** Blocks until interrupted, as a handler waiting on I/O does. */
    private static JobHandler untilInterrupted() {
        return new JobHandler() {
            @Override
            public String type() {
                return "t";
            }

            @Override
            public JsonNode handle(JobContext context) throws InterruptedException {
                new CountDownLatch(1).await();
                return Json.object();
            }
        };
    }

    @Test
    void theHandlerRunsOnTheJobsOwnThread() throws Exception {
        var handlerThread = new AtomicReference<Thread>();
        var handler = new JobHandler() {
            @Override
            public String type() {
                return "noop";
            }

            @Override
            public JsonNode handle(JobContext context) {
                handlerThread.set(Thread.currentThread());
                return Json.object();
            }
        };
        var testing = new RunnerTesting(List.of(handler), Map.of());
        var job = RunnerTesting.dispatch("noop", Json.object(), 30);
        var taken = testing.runner.take(RunnerTesting.record(job));

        var jobThread = Thread.ofVirtual().start(taken.rest());
        jobThread.join(Duration.ofSeconds(10));

        assertThat(handlerThread.get()).isSameAs(jobThread);
        assertThat(testing.events.finished(job.jobId()).outcome()).isEqualTo(JobFinished.Outcome.SUCCEEDED);
        assertThat(testing.runner.inFlight()).isZero();
    }

    @Test
    void anAttemptPastItsDeadlineIsReportedElsewhereAndTheWatcherStopsWhenNoneRuns() throws Exception {
        var deadlines = new Deadlines();
        for (var round = 0; round < 2; round++) {
            var attempt = new Attempt(1, 1);
            var reported = new CompletableFuture<Attempt.End>();
            var returned = CompletableFuture.supplyAsync(() ->
                    attempt.run(untilInterrupted(), context(100), deadlines, reported::complete),
                    r -> Thread.ofVirtual().start(r));

            assertThat(reported.get(5, java.util.concurrent.TimeUnit.SECONDS)).isInstanceOf(Attempt.End.TimedOut.class);
            assertThat(returned.get(5, java.util.concurrent.TimeUnit.SECONDS))
                    .as("the handler's thread does not report an end decided elsewhere").isNull();
            assertThat(attempt.awaitHandler(Duration.ZERO)).isTrue();
            // the second round finds the watcher gone and starts it again
            await().atMost(Duration.ofSeconds(5)).until(() -> !deadlines.isWatching());
            assertThat(deadlines.watched()).isZero();
        }
    }

    @Test
    void anAttemptThatEndsInTimeIsReturnedToItsThreadAndNotWatchedAnyMore() {
        var deadlines = new Deadlines();
        var attempt = new Attempt(1, 1);
        var handler = new JobHandler() {
            @Override
            public String type() {
                return "t";
            }

            @Override
            public JsonNode handle(JobContext context) {
                return Json.object().put("ok", true);
            }
        };

        var end = attempt.run(handler, context(60_000), deadlines, e -> {
            throw new AssertionError("nothing else reports this attempt: " + e);
        });

        assertThat(end).isInstanceOf(Attempt.End.Returned.class);
        assertThat(deadlines.watched()).isZero();
        attempt.cancel();
        assertThat(attempt.isOver()).isTrue();
        assertThat(Thread.currentThread().isInterrupted()).as("a cancel after the end interrupts nobody").isFalse();
    }

    @Test
    void aCancelWhileTheHandlerIgnoresItIsReportedAtOnceAndOnlyOnce() throws Exception {
        var entered = new CountDownLatch(1);
        var go = new CountDownLatch(1);
        var interrupts = new java.util.concurrent.atomic.AtomicInteger();
        var stubborn = new JobHandler() {
            @Override
            public String type() {
                return "stubborn";
            }

            @Override
            public JsonNode handle(JobContext context) {
                entered.countDown();
                while (true) {
                    try {
                        go.await();
                        return Json.object();
                    } catch (InterruptedException ignored) {
                        interrupts.incrementAndGet();
                    }
                }
            }
        };
        var testing = new RunnerTesting(List.of(stubborn), Map.of());
        var job = RunnerTesting.dispatch("stubborn", Json.object(), 60);
        try {
            testing.take(job);
            assertThat(entered.await(5, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

            testing.attempts.cancel(job.jobId(), job.generation());

            var finished = await().atMost(Duration.ofSeconds(5)).until(() -> testing.events.finished(job.jobId()),
                    f -> f != null);
            assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.CANCELLED);
            assertThat(finished.error().code()).isEqualTo(JobError.CANCELLED);
            assertThat(interrupts.get()).isPositive();
        } finally {
            go.countDown();
        }

        await().atMost(Duration.ofSeconds(5)).until(() -> testing.runner.occupied() == 0);
        assertThat(testing.events.all().stream().filter(e -> e instanceof JobFinished && e.jobId().equals(job.jobId())))
                .as("the handler's late return reports nothing").hasSize(1);
    }
}
