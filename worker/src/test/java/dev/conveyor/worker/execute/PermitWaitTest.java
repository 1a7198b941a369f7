package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import dev.conveyor.common.message.JobDispatch;
import dev.conveyor.common.message.JobError;
import dev.conveyor.common.message.JobFinished;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * An attempt taken over its type's limit waits for a permit within its deadline, which counts from the take (when
 * its start is stamped, and the api's rescue clock starts): one that gets no permit in time ends {@code TIMEOUT}
 * without running, and one that gets a permit runs for what is left of its time.
 */
class PermitWaitTest {

    /** Of type {@code limited}, allowed one at a time: the first job holds the permit until {@link #let()}. */
    static final class Holding implements JobHandler {

        final CountDownLatch go = new CountDownLatch(1);
        final Map<UUID, Instant> deadlines = new ConcurrentHashMap<>();

        @Override
        public String type() {
            return "limited";
        }

        @Override
        public JsonNode handle(JobContext context) throws InterruptedException {
            deadlines.put(context.jobId(), context.deadline());
            go.await();
            return Json.object();
        }

        void let() {
            go.countDown();
        }
    }

    private final Holding holding = new Holding();
    private final RunnerTesting testing = new RunnerTesting(List.of(holding), Map.of("limited", 1));

    @AfterEach
    void letGo() {
        holding.let();
    }

    private JobFinished finished(UUID job, Duration within) {
        return await().atMost(within).until(() -> testing.events.finished(job), f -> f != null);
    }

    @Test
    void anAttemptThatGetsNoPermitBeforeItsDeadlineTimesOutWithoutRunning() throws Exception {
        var first = RunnerTesting.dispatch("limited", Json.object(), 60);
        testing.take(first);
        await().atMost(Duration.ofSeconds(5)).until(() -> holding.deadlines.containsKey(first.jobId()));
        var waiting = RunnerTesting.dispatch("limited", Json.object(), 1);

        assertThat(testing.take(waiting)).isEqualTo(AcknowledgeType.ACCEPT);

        var finished = finished(waiting.jobId(), Duration.ofSeconds(5));
        assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.FAILED);
        assertThat(finished.error().code()).isEqualTo(JobError.TIMEOUT);
        assertThat(finished.error().retryable()).isTrue();
        assertThat(finished.error().message()).contains("permit", "type-limits.limited");
        assertThat(Duration.between(finished.startedAt(), finished.at())).isBetween(Duration.ofMillis(900),
                Duration.ofSeconds(3));
        assertThat(holding.deadlines).doesNotContainKey(waiting.jobId());
        await().atMost(Duration.ofSeconds(5)).until(() -> testing.runner.inFlight() == 1);
        assertThat(testing.events.finished(first.jobId())).as("the first job still runs").isNull();
    }

    @Test
    void anAttemptThatWaitedForItsPermitRunsUntilItsDeadlineCountedFromTheTake() throws Exception {
        var first = RunnerTesting.dispatch("limited", Json.object(), 60);
        testing.take(first);
        await().atMost(Duration.ofSeconds(5)).until(() -> holding.deadlines.containsKey(first.jobId()));
        var waiting = RunnerTesting.dispatch("limited", Json.object(), 60);
        testing.take(waiting);
        await().atMost(Duration.ofSeconds(5)).until(() -> testing.runner.inFlight() == 2);

        holding.let();

        var finished = finished(waiting.jobId(), Duration.ofSeconds(10));
        assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.SUCCEEDED);
        assertThat(holding.deadlines.get(waiting.jobId())).isEqualTo(finished.startedAt().plusSeconds(60));
    }

    @Test
    void aCancelEndsTheWaitForAPermit() throws Exception {
        var first = RunnerTesting.dispatch("limited", Json.object(), 60);
        testing.take(first);
        await().atMost(Duration.ofSeconds(5)).until(() -> holding.deadlines.containsKey(first.jobId()));
        var waiting = RunnerTesting.dispatch("limited", Json.object(), 60);
        testing.take(waiting);

        testing.attempts.cancel(waiting.jobId(), waiting.generation());

        var finished = finished(waiting.jobId(), Duration.ofSeconds(5));
        assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.CANCELLED);
        assertThat(holding.deadlines).doesNotContainKey(waiting.jobId());
    }

    /**
     * A job on a later attempt runs only once the poll's acknowledgements are committed, and the commit waits for every
     * record of the poll. Holding its type's permit meanwhile, it held back the poll's other jobs of its type, which
     * waited for that permit up to max-start-wait before the commit could go: ten seconds by default, each poll, for a
     * limited type with retries (seen with jobs of a limited type that the worker had released). Now it takes its
     * permit once it runs.
     */
    @Test
    void aJobThatWaitsForTheCommitTakesNoPermitUntilItRuns() throws Exception {
        var patient = new RunnerTesting(List.of(holding), Map.of("limited", 1), Duration.ofMillis(100),
                Duration.ofSeconds(30));
        var retry = new JobDispatch(JobDispatch.VERSION, UUID.randomUUID(), "limited", "default", 2, 3, 60,
                Json.object(), Instant.now(), 0);

        var taken = assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> patient.runner.take(RunnerTesting.record(retry)));
        assertThat(taken.acknowledge()).isEqualTo(AcknowledgeType.ACCEPT);
        assertThat(taken.afterCommit()).isTrue();
        // the permit is still there for the poll's next job of the type, taken in the meantime
        var fresh = RunnerTesting.dispatch("limited", Json.object(), 60);
        assertThat(assertTimeoutPreemptively(Duration.ofSeconds(5), () -> patient.take(fresh)))
                .isEqualTo(AcknowledgeType.ACCEPT);
        await().atMost(Duration.ofSeconds(5)).until(() -> holding.deadlines.containsKey(fresh.jobId()));

        // committed: the retry runs, once the permit is free
        Thread.ofVirtual().start(taken.rest());
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
                .until(() -> !holding.deadlines.containsKey(retry.jobId()));
        holding.let();
        assertThat(await().atMost(Duration.ofSeconds(10)).until(() -> patient.events.finished(retry.jobId()),
                f -> f != null).outcome()).isEqualTo(JobFinished.Outcome.SUCCEEDED);
    }
}
