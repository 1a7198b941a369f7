package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.common.JobLimits;
import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import dev.conveyor.common.message.JobDispatch;
import dev.conveyor.common.message.JobError;
import dev.conveyor.common.message.JobFinished;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A worker runs one attempt of a job once, however many records of that attempt reach it, and runs only the latest
 * attempt of a job: a later one stops an earlier one still running here, and an earlier one delivered again does
 * not run.
 */
class RunningAttemptsTest {

    private final RunningAttempts attempts = new RunningAttempts();
    private final UUID job = UUID.randomUUID();

    @Test
    void aSecondRecordOfTheAttemptRunningHereIsNotRunAgain() {
        assertThat(attempts.register(job, new Attempt(0, 1, 3))).isEqualTo(RunningAttempts.Registration.REGISTERED);

        assertThat(attempts.register(job, new Attempt(0, 1, 3)))
                .isEqualTo(RunningAttempts.Registration.ALREADY_RUNNING);
        assertThat(attempts.count()).isEqualTo(1);
    }

    @Test
    void aLaterAttemptOrGenerationIsNotTakenForACopy() {
        attempts.register(job, new Attempt(0, 1, 3));

        assertThat(attempts.register(job, new Attempt(0, 2, 3))).isEqualTo(RunningAttempts.Registration.REGISTERED);
        assertThat(attempts.register(job, new Attempt(1, 2, 3))).isEqualTo(RunningAttempts.Registration.REGISTERED);
    }

    @Test
    void aCancelledJobDoesNotRegister() {
        attempts.cancel(job, 0);

        assertThat(attempts.register(job, new Attempt(0, 1, 3))).isEqualTo(RunningAttempts.Registration.CANCELLED);
        assertThat(attempts.count()).isZero();
    }

    @Test
    void aLaterAttemptAbandonsTheEarlierOneAndIsTheOneACancelAndTheHandBackFind() {
        var earlier = new Attempt(0, 1, 3);
        attempts.register(job, earlier);
        var later = new Attempt(0, 2, 3);

        assertThat(attempts.register(job, later)).isEqualTo(RunningAttempts.Registration.REGISTERED);

        assertThat(earlier.isOver()).as("the earlier attempt is stopped").isTrue();
        assertThat(later.isOver()).isFalse();
        assertThat(attempts.count()).isEqualTo(1);
        attempts.abandonAll();
        assertThat(later.isOver()).as("the hand-back at shutdown finds the later attempt").isTrue();
    }

    @Test
    void aLaterGenerationAbandonsAnAttemptOfAnEarlierOneWhateverItsNumber() {
        var earlier = new Attempt(0, 3, 3);
        attempts.register(job, earlier);
        var retried = new Attempt(1, 1, 3);

        assertThat(attempts.register(job, retried)).isEqualTo(RunningAttempts.Registration.REGISTERED);

        assertThat(earlier.isOver()).isTrue();
        attempts.cancel(job, 1);
        assertThat(retried.isOver()).as("a cancel finds the later attempt").isTrue();
    }

    @Test
    void aLaterAttemptOfTheSameGenerationWithAnotherBudgetIsNoApisAndLeavesTheRunningOneAlone() {
        var running = new Attempt(0, 1, 3);
        attempts.register(job, running);

        assertThat(attempts.register(job, new Attempt(0, 1_000, 1_000)))
                .isEqualTo(RunningAttempts.Registration.INCONSISTENT);
        assertThat(running.isOver()).isFalse();
        assertThat(attempts.count()).isEqualTo(1);

        // a retry raises the budget, in a new generation
        var retried = new Attempt(1, 2, 5);
        assertThat(attempts.register(job, retried)).isEqualTo(RunningAttempts.Registration.REGISTERED);
        assertThat(running.isOver()).isTrue();
    }

    @Test
    void anEarlierAttemptOfferedAgainIsSupersededAndLeavesTheRunningOneAlone() {
        var running = new Attempt(1, 2, 3);
        attempts.register(job, running);

        assertThat(attempts.register(job, new Attempt(1, 1, 3))).isEqualTo(RunningAttempts.Registration.SUPERSEDED);
        assertThat(attempts.register(job, new Attempt(0, 5, 3))).isEqualTo(RunningAttempts.Registration.SUPERSEDED);

        assertThat(running.isOver()).isFalse();
        assertThat(attempts.count()).isEqualTo(1);
        attempts.cancel(job, 1);
        assertThat(running.isOver()).isTrue();
    }

    /** The same, as a worker takes the records of the job's attempts. */
    @Nested
    class Taking {

        /** Runs until interrupted, noting the attempts that started. */
        final class Blocking implements JobHandler {

            final Set<Integer> started = ConcurrentHashMap.newKeySet();

            @Override
            public String type() {
                return "blocking";
            }

            @Override
            public JsonNode handle(JobContext context) throws InterruptedException {
                started.add(context.attempt());
                new CountDownLatch(1).await();
                return Json.object();
            }
        }

        private final Blocking blocking = new Blocking();
        private final RunnerTesting testing = new RunnerTesting(blocking);

        private JobDispatch attempt(int number) {
            return attempt(number, 3);
        }

        private JobDispatch attempt(int number, int maxAttempts) {
            return new JobDispatch(JobDispatch.VERSION, job, "blocking", "default", number, maxAttempts, 60,
                    Json.object(), Instant.now(), 0);
        }

        private JobFinished outcomeOf(int attempt) {
            return await().atMost(Duration.ofSeconds(10)).until(() -> testing.events.all().stream()
                    .filter(e -> e instanceof JobFinished && e.jobId().equals(job))
                    .map(JobFinished.class::cast).filter(f -> f.attempt() == attempt).findFirst().orElse(null),
                    f -> f != null);
        }

        @Test
        void aLaterAttemptStopsTheEarlierOneWhichIsHandedBack() throws Exception {
            testing.take(attempt(1));
            await().atMost(Duration.ofSeconds(5)).until(() -> blocking.started.contains(1));

            assertThat(testing.take(attempt(2))).isEqualTo(AcknowledgeType.ACCEPT);

            var earlier = outcomeOf(1);
            assertThat(earlier.outcome()).isEqualTo(JobFinished.Outcome.FAILED);
            assertThat(earlier.error().code()).isEqualTo(JobError.WORKER_LOST);
            await().atMost(Duration.ofSeconds(5)).until(() -> blocking.started.contains(2));
            assertThat(testing.runner.inFlight()).isEqualTo(1);
            testing.attempts.cancel(job, 0);
            assertThat(outcomeOf(2).outcome()).isEqualTo(JobFinished.Outcome.CANCELLED);
        }

        @Test
        void aForgedRecordOfAnAttemptNoApiDispatchesLeavesTheRunningAttemptAlone() throws Exception {
            testing.take(attempt(1));
            await().atMost(Duration.ofSeconds(5)).until(() -> blocking.started.contains(1));

            // written to the jobs topic by hand: the newer attempt won, and the real one was stopped and handed back
            assertThat(testing.take(attempt(Integer.MAX_VALUE))).isEqualTo(AcknowledgeType.REJECT);
            assertThat(testing.take(attempt(3 + JobLimits.MAX_ATTEMPTS_UNCHARGED + 1)))
                    .isEqualTo(AcknowledgeType.REJECT);
            // within the bound, with a budget raised to suit: no api changes the budget within a generation
            assertThat(testing.take(attempt(Integer.MAX_VALUE, Integer.MAX_VALUE - 1)))
                    .isEqualTo(AcknowledgeType.REJECT);

            assertThat(testing.events.all().stream().filter(e -> e instanceof JobFinished).toList())
                    .as("the running attempt goes on").isEmpty();
            assertThat(testing.runner.inFlight()).isEqualTo(1);
            // and stays the one that counts: the api's next attempt takes over from it, a cancel finds it
            assertThat(testing.take(attempt(2))).isEqualTo(AcknowledgeType.ACCEPT);
            assertThat(outcomeOf(1).error().code()).isEqualTo(JobError.WORKER_LOST);
            await().atMost(Duration.ofSeconds(5)).until(() -> blocking.started.contains(2));
            testing.attempts.cancel(job, 0);
            assertThat(outcomeOf(2).outcome()).isEqualTo(JobFinished.Outcome.CANCELLED);
            assertThat(blocking.started).isEqualTo(Set.of(1, 2));
        }

        @Test
        void anEarlierAttemptDeliveredAgainIsAcceptedWithoutRunning() throws Exception {
            testing.take(attempt(2));
            await().atMost(Duration.ofSeconds(5)).until(() -> blocking.started.contains(2));

            var taken = testing.runner.take(RunnerTesting.record(attempt(1)));

            assertThat(taken.acknowledge()).isEqualTo(AcknowledgeType.ACCEPT);
            assertThat(taken.rest()).as("nothing left to run").isNull();
            assertThat(testing.runner.inFlight()).isEqualTo(1);
            assertThat(testing.events.all().stream().filter(e -> e instanceof JobFinished).toList())
                    .as("the running attempt goes on").isEmpty();
            testing.attempts.cancel(job, 0);
            assertThat(outcomeOf(2).outcome()).isEqualTo(JobFinished.Outcome.CANCELLED);
            assertThat(blocking.started).isEqualTo(Set.of(2));
        }
    }
}
