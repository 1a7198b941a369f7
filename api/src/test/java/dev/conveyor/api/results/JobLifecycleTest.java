package dev.conveyor.api.results;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.metrics.JobFacts;
import dev.conveyor.common.JobStatus;
import dev.conveyor.common.Json;
import dev.conveyor.common.message.JobError;
import dev.conveyor.common.message.JobEvent;
import dev.conveyor.common.message.JobFinished;
import dev.conveyor.common.message.JobProgress;
import dev.conveyor.common.message.JobStarted;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class JobLifecycleTest {

    private static final Instant NOW = Instant.parse("2026-11-28T10:00:00Z");
    private static final UUID ID = UUID.fromString("019374b2-8c1e-7a7d-9f57-1c4b0b3e2a10");

    private final JobLifecycle lifecycle = new JobLifecycle(RetryPolicyTest.policy(0.0));

    private static JobUpdate job(JobStatus status, int attempts, int maxAttempts) {
        return JobUpdate.of(new JobState(ID, status, attempts, 0, maxAttempts, maxAttempts, 0, 0, false));
    }

    private static JobUpdate job(JobState state) {
        return JobUpdate.of(state);
    }

    private static JobStarted start(int attempt, int generation) {
        return new JobStarted(JobEvent.VERSION, ID, attempt, generation, "w1", NOW);
    }

    private static JobFinished failure(int attempt, String code, boolean retryable, Long retryAfterMs) {
        return new JobFinished(JobEvent.VERSION, ID, attempt, 0, 3, "w1", JobFinished.Outcome.FAILED, null,
                new JobError(code, "x", retryable), retryAfterMs, NOW);
    }

    private static JobFinished success(int attempt, int generation) {
        return new JobFinished(JobEvent.VERSION, ID, attempt, generation, 3, "w1", JobFinished.Outcome.SUCCEEDED,
                Json.tree("{\"ok\": true}"), null, null, NOW);
    }

    @Nested
    class Events {

        @Test
        void aStartAppliesOnlyToTheNextAttemptOfAQueuedJob() {
            var queued = job(JobStatus.QUEUED, 1, 3);

            assertThat(lifecycle.started(queued, start(2, 0)).to().status()).isEqualTo(JobStatus.RUNNING);
            assertThat(lifecycle.started(queued, start(2, 0)).to().attempts()).isEqualTo(2);
            assertThat(lifecycle.started(queued, start(1, 0))).as("a replayed start").isEqualTo(queued);
            assertThat(lifecycle.started(queued, start(3, 0))).as("an attempt not dispatched").isEqualTo(queued);
            assertThat(lifecycle.started(job(JobStatus.RUNNING, 1, 3), start(2, 0)).changes()).isFalse();
        }

        @Test
        void eventsOfAnotherGenerationChangeNothing() {
            var retried = job(new JobState(ID, JobStatus.QUEUED, 3, 1, 6, 3, 0, 0, false));

            assertThat(lifecycle.started(retried, start(4, 0)).changes()).isFalse();
            assertThat(lifecycle.finished(retried, success(4, 0), NOW).changes()).isFalse();
            assertThat(lifecycle.finished(retried, success(4, 1), NOW).to().status())
                    .isEqualTo(JobStatus.SUCCEEDED);
        }

        @Test
        void aStartAndAnEndTogetherMakeOneChange() {
            var queued = job(JobStatus.QUEUED, 0, 3);

            var done = lifecycle.finished(lifecycle.started(queued, start(1, 0)), success(1, 0), NOW);

            assertThat(done.from().status()).isEqualTo(JobStatus.QUEUED);
            assertThat(done.to().status()).isEqualTo(JobStatus.SUCCEEDED);
            assertThat(done.workerId()).isEqualTo("w1");
            assertThat(done.result()).isEqualTo("{\"ok\":true}");
            assertThat(done.finishedAt()).isEqualTo(NOW);
        }

        @Test
        void anEndWhoseStartNeverArrivedImpliesIt() {
            var done = lifecycle.finished(job(JobStatus.QUEUED, 0, 3), success(1, 0), NOW);

            assertThat(done.to().status()).isEqualTo(JobStatus.SUCCEEDED);
            assertThat(done.to().attempts()).isEqualTo(1);
            assertThat(done.startedAt()).isEqualTo(NOW);
        }

        @Test
        void anEndThatStandsForItsStartSaysWhenTheAttemptStarted() {
            var startedAt = NOW.minusMillis(40);

            var done = lifecycle.finished(job(JobStatus.QUEUED, 0, 3), success(1, 0).withStartedAt(startedAt), NOW);
            var afterStart = lifecycle.finished(lifecycle.started(job(JobStatus.QUEUED, 0, 3), start(1, 0)),
                    success(1, 0).withStartedAt(startedAt), NOW);

            assertThat(done.to().status()).isEqualTo(JobStatus.SUCCEEDED);
            assertThat(done.startedAt()).isEqualTo(startedAt);
            assertThat(done.workerId()).isEqualTo("w1");
            assertThat(afterStart.startedAt()).as("the start event's time stands").isEqualTo(NOW);
        }

        @Test
        void anEndAppliesOnlyToTheAttemptRunning() {
            var running = job(JobStatus.RUNNING, 2, 3);

            assertThat(lifecycle.finished(running, success(1, 0), NOW).changes()).isFalse();
            assertThat(lifecycle.finished(job(JobStatus.SUCCEEDED, 2, 3), success(2, 0), NOW).changes()).isFalse();
        }

        @Test
        void progressAppliesOnlyToTheAttemptRunning() {
            var progress = new JobProgress(JobEvent.VERSION, ID, 2, 0, 0.5, "half", NOW);

            assertThat(lifecycle.progressed(job(JobStatus.RUNNING, 2, 3), progress).progress()).contains("half");
            assertThat(lifecycle.progressed(job(JobStatus.RUNNING, 3, 3), progress).changes()).isFalse();
        }
    }

    @Nested
    class Failures {

        @Test
        void aRetryableFailureWithAttemptsLeftIsScheduledAfterBackoff() {
            var update = lifecycle.finished(job(JobStatus.RUNNING, 3, 5), failure(3, "HANDLER_ERROR", true, null), NOW);

            assertThat(update.to().status()).isEqualTo(JobStatus.SCHEDULED);
            assertThat(update.runAt()).isEqualTo(NOW.plusSeconds(4));
            assertThat(update.redispatch()).isTrue();
            assertThat(update.finishedAt()).isNull();
        }

        @Test
        void aJobRetriedByHandWaitsAsAfterItsFirstAttempts() {
            // 10 attempts before the retry, which raised maxAttempts from 5 to 15: this is its second since
            var retried = job(new JobState(ID, JobStatus.RUNNING, 12, 1, 15, 5, 0, 0, false));

            var failed = new JobFinished(JobEvent.VERSION, ID, 12, 1, 15, "w1", JobFinished.Outcome.FAILED, null,
                    new JobError("HANDLER_ERROR", "x", true), null, NOW);

            var update = lifecycle.finished(retried, failed, NOW);

            assertThat(update.to().status()).isEqualTo(JobStatus.SCHEDULED);
            assertThat(update.runAt()).isEqualTo(NOW.plusSeconds(2));
        }

        @Test
        void theLastChargedAttemptFails() {
            assertThat(lifecycle.finished(job(JobStatus.RUNNING, 3, 3), failure(3, "HANDLER_ERROR", true, null), NOW)
                    .to().status()).isEqualTo(JobStatus.FAILED);
        }

        @Test
        void attemptsLostOrHandedBackAreNotCharged() {
            var twoLost = job(new JobState(ID, JobStatus.RUNNING, 3, 0, 3, 3, 2, 1, false));

            assertThat(lifecycle.finished(twoLost, failure(3, "HANDLER_ERROR", true, null), NOW).to().status())
                    .isEqualTo(JobStatus.SCHEDULED);
        }

        @Test
        void aFailureThatIsNotRetryableFailsAtOnce() {
            assertThat(lifecycle.finished(job(JobStatus.RUNNING, 1, 3), failure(1, "HTTP_STATUS", false, null), NOW)
                    .to().status()).isEqualTo(JobStatus.FAILED);
        }

        @Test
        void aRetryAfterLongerThanAnyoneWouldWaitFailsTheJobSayingSo() {
            var update = lifecycle.finished(job(JobStatus.RUNNING, 1, 3),
                    failure(1, "HTTP_STATUS", true, 315_360_000_000_000L), NOW);

            assertThat(update.to().status()).isEqualTo(JobStatus.FAILED);
            assertThat(update.error()).contains("HTTP_STATUS", "max-retry-after", "\"retryable\":false");
        }

        @Test
        void aRetryAfterWithinTheLongestWaitIsHonoured() {
            var update = lifecycle.finished(job(JobStatus.RUNNING, 1, 3),
                    failure(1, "HTTP_STATUS", true, Duration.ofDays(7).toMillis()), NOW);

            assertThat(update.runAt()).isEqualTo(NOW.plus(Duration.ofDays(7)));
        }

        @Test
        void aCancelledJobGetsNoFurtherAttempt() {
            var cancelled = job(new JobState(ID, JobStatus.RUNNING, 1, 0, 3, 3, 0, 0, true));

            var update = lifecycle.finished(cancelled, failure(1, "HANDLER_ERROR", true, null), NOW);

            assertThat(update.to().status()).isEqualTo(JobStatus.CANCELLED);
            assertThat(lifecycle.lost(cancelled, "gone", NOW).to().status()).isEqualTo(JobStatus.CANCELLED);
        }

        @Test
        void aJobHandedBackRunsAgainAtOnceUncharged() {
            var update = lifecycle.finished(job(JobStatus.RUNNING, 3, 3), failure(3, "WORKER_LOST", true, null), NOW);

            assertThat(update.to().status()).isEqualTo(JobStatus.SCHEDULED);
            assertThat(update.runAt()).isEqualTo(NOW);
            assertThat(update.to().unchargedAttempts()).isEqualTo(1);
            assertThat(update.to().lostAttempts()).isZero();
        }
    }

    @Nested
    class NoHandler {

        private static final JobFacts JOB = new JobFacts("q", "greet", NOW, NOW);
        private static final RetryPolicy HOURS = new RetryPolicy(new ApiProperties.Retry(Duration.ofSeconds(1),
                Duration.ofHours(1), 0.0, Duration.ofDays(7), 3));

        private static JobFinished givenBack(int attempt) {
            return new JobFinished(JobEvent.VERSION, ID, attempt, 0, 3, "old-worker", JobFinished.Outcome.FAILED,
                    null, new JobError(JobError.NO_HANDLER, "no handler for job type 'greet' on worker old-worker "
                    + "(it runs [echo])", true), null, NOW);
        }

        private static JobLifecycle knowing(Optional<Boolean> runs) {
            return new JobLifecycle(HOURS, (queue, type) -> {
                assertThat(queue).isEqualTo("q");
                assertThat(type).isEqualTo("greet");
                return runs;
            });
        }

        private static JobUpdate running(int attempts, int handBacks) {
            return job(new JobState(ID, JobStatus.RUNNING, attempts, 0, 3, 3, handBacks, 0, false));
        }

        @Test
        void failsForGoodWhenNoLiveWorkerOfTheQueueHasTheHandler() {
            var update = knowing(Optional.of(false)).finished(running(1, 0), givenBack(1), NOW, JOB);

            assertThat(update.to().status()).isEqualTo(JobStatus.FAILED);
            var error = Json.tree(update.error());
            assertThat(error.get("code").asString()).isEqualTo("NO_HANDLER");
            assertThat(error.get("retryable").asBoolean()).isFalse();
            assertThat(error.get("message").asString())
                    .startsWith("no live worker of queue 'q' has a handler for job type 'greet'")
                    .contains("on worker old-worker (it runs [echo])");
        }

        @Test
        void runsAgainUnchargedAfterBackoffWhenAnotherWorkerHasIt() {
            var update = knowing(Optional.of(true)).finished(running(3, 2), givenBack(3), NOW, JOB);

            assertThat(update.to().status()).isEqualTo(JobStatus.SCHEDULED);
            assertThat(update.to().unchargedAttempts()).isEqualTo(3);
            assertThat(update.to().chargedAttempts()).isZero();
            assertThat(update.runAt()).isEqualTo(NOW.plusSeconds(4)); // the backoff after the third
            var error = Json.tree(update.error());
            assertThat(error.get("retryable").asBoolean()).isTrue();
            assertThat(error.get("message").asString()).contains("another worker of queue 'q' has one");
        }

        @Test
        void runsAgainWhenTheApiCannotTellWhichWorkersLive() {
            var update = knowing(Optional.empty()).finished(running(1, 0), givenBack(1), NOW, JOB);

            assertThat(update.to().status()).isEqualTo(JobStatus.SCHEDULED);
            assertThat(update.runAt()).isEqualTo(NOW.plusSeconds(1));
        }

        @Test
        void waitsAtMostAMinuteBetweenTries() {
            var update = knowing(Optional.of(true)).finished(running(15, 14), givenBack(15), NOW, JOB);

            assertThat(update.runAt()).isEqualTo(NOW.plus(JobLifecycle.MAX_NO_HANDLER_DELAY));
        }

        @Test
        void failsOnceGivenBackMoreOftenThanAnyJobMayBe() {
            var max = JobLifecycle.MAX_HAND_BACKS;
            var update = knowing(Optional.of(true)).finished(running(max + 1, max), givenBack(max + 1), NOW, JOB);

            assertThat(update.to().status()).isEqualTo(JobStatus.FAILED);
            assertThat(Json.tree(update.error()).get("message").asString())
                    .contains("given back " + (max + 1) + " times by workers without its handler");
        }

        @Test
        void aCancelledJobEndsCancelled() {
            var cancelled = job(new JobState(ID, JobStatus.RUNNING, 1, 0, 3, 3, 0, 0, true));

            assertThat(knowing(Optional.of(true)).finished(cancelled, givenBack(1), NOW, JOB).to().status())
                    .isEqualTo(JobStatus.CANCELLED);
            assertThat(knowing(Optional.of(false)).finished(cancelled, givenBack(1), NOW, JOB).to().status())
                    .as("with no worker to run it either").isEqualTo(JobStatus.CANCELLED);
        }

        @Test
        void aWorkerThatFailsTheJobItselfFailsItAsBefore() {
            // a worker older than the hand-back reports NO_HANDLER as not retryable
            var old = new JobFinished(JobEvent.VERSION, ID, 1, 0, 3, "w1", JobFinished.Outcome.FAILED, null,
                    new JobError(JobError.NO_HANDLER, "no handler", false), null, NOW);

            assertThat(knowing(Optional.of(true)).finished(running(1, 0), old, NOW, JOB).to().status())
                    .isEqualTo(JobStatus.FAILED);
        }
    }

    @Nested
    class LostAttempts {

        private JobUpdate running(int attempts, int lost) {
            return job(new JobState(ID, JobStatus.RUNNING, attempts, 0, 1, 1, lost, lost, false));
        }

        @Test
        void theFirstLostAttemptRunsAgainAtOnceUncharged() {
            var update = lifecycle.lost(running(1, 0), "worker w1 stopped", NOW);

            assertThat(update.to().status()).isEqualTo(JobStatus.SCHEDULED);
            assertThat(update.runAt()).isEqualTo(NOW);
            assertThat(update.to().lostAttempts()).isEqualTo(1);
            assertThat(update.to().chargedAttempts()).isZero();
            assertThat(update.error()).contains("WORKER_LOST", "worker w1 stopped");
        }

        @Test
        void laterLostAttemptsWaitLongerEachTime() {
            assertThat(lifecycle.lost(running(2, 1), "w", NOW).runAt()).isEqualTo(NOW.plusSeconds(1));
        }

        @Test
        void aJobLostAsOftenAsAllowedFails() {
            var update = lifecycle.lost(running(3, 2), "w", NOW);

            assertThat(update.to().status()).isEqualTo(JobStatus.FAILED);
            assertThat(update.finishedAt()).isEqualTo(NOW);
            assertThat(update.error()).contains("WORKER_LOST", "lost 3 times");
        }
    }

    /**
     * A worker gave the job back without running it (no room for it, stopping, no handler): the attempt did not start,
     * so it is not counted, and the same attempt is dispatched again under one more hand-back.
     */
    @Nested
    class GivenBackUnstarted {

        private static final JobFacts JOB = new JobFacts("q", "greet", NOW, NOW);

        private static JobUpdate queued(int attempts, int handBacks) {
            return job(new JobState(ID, JobStatus.QUEUED, attempts, 0, 3, 3, 0, 0, false, handBacks));
        }

        private static JobFinished givenBack(int attempt, String code, int handBacks) {
            return new JobFinished(JobEvent.VERSION, ID, attempt, 0, 3, "w1", JobFinished.Outcome.FAILED, null,
                    new JobError(code, "worker w1 had no room for it", true), null, NOW, NOW, handBacks);
        }

        @Test
        void isDispatchedAgainAtOnceUnderTheSameAttemptNeitherStartedNorCharged() {
            var update = lifecycle.finished(queued(1, 0), givenBack(2, JobError.WORKER_LOST, 0), NOW, JOB);

            assertThat(update.to().status()).isEqualTo(JobStatus.SCHEDULED);
            assertThat(update.runAt()).isEqualTo(NOW);
            assertThat(update.redispatch()).isTrue();
            assertThat(update.to().attempts()).as("attempts started").isEqualTo(1);
            assertThat(update.to().handBacks()).isEqualTo(1);
            assertThat(update.to().unchargedAttempts()).isZero();
            assertThat(update.to().lostAttempts()).isZero();
            assertThat(update.startedAt()).as("no start recorded").isNull();
            assertThat(update.workerId()).isNull();
            assertThat(update.error()).as("nothing failed: the last failure stays as it was").isNull();
        }

        @Test
        void appliesOnlyToTheDispatchItNames() {
            var first = lifecycle.finished(queued(0, 0), givenBack(1, JobError.WORKER_LOST, 0), NOW, JOB);
            // dispatched again (hand-backs 1): the same hand-back read a second time is of the dispatch before
            var again = JobUpdate.of(first.to().moveTo(JobStatus.QUEUED));

            assertThat(lifecycle.finished(again, givenBack(1, JobError.WORKER_LOST, 0), NOW, JOB).changes())
                    .isFalse();
            assertThat(lifecycle.finished(again, givenBack(1, JobError.WORKER_LOST, 1), NOW, JOB).to().handBacks())
                    .isEqualTo(2);
        }

        @Test
        void neverEndsTheAttemptRunning() {
            // another worker took a second record of the attempt and runs it
            var running = job(new JobState(ID, JobStatus.RUNNING, 1, 0, 3, 3, 0, 0, false, 0));

            assertThat(lifecycle.finished(running, givenBack(1, JobError.WORKER_LOST, 0), NOW, JOB).changes())
                    .isFalse();
        }

        @Test
        void aJobWaitingForRoomIsGivenBackWithoutEnd() {
            var update = lifecycle.finished(queued(0, 10_000), givenBack(1, JobError.WORKER_LOST, 10_000), NOW, JOB);

            assertThat(update.to().status()).isEqualTo(JobStatus.SCHEDULED);
            assertThat(update.to().handBacks()).isEqualTo(10_001);
        }

        @Test
        void withoutAHandlerItWaitsTheBackoffAndFailsWhenNoLiveWorkerHasOne() {
            var elsewhere = new JobLifecycle(RetryPolicyTest.policy(0.0), (queue, type) -> Optional.of(true));
            var nowhere = new JobLifecycle(RetryPolicyTest.policy(0.0), (queue, type) -> Optional.of(false));

            var waits = elsewhere.finished(queued(0, 2), givenBack(1, JobError.NO_HANDLER, 2), NOW, JOB);
            assertThat(waits.to().status()).isEqualTo(JobStatus.SCHEDULED);
            assertThat(waits.to().attempts()).isZero();
            assertThat(waits.runAt()).isAfter(NOW);
            assertThat(Json.tree(waits.error()).get("message").asString()).contains("another worker of queue 'q'");

            var fails = nowhere.finished(queued(0, 0), givenBack(1, JobError.NO_HANDLER, 0), NOW, JOB);
            assertThat(fails.to().status()).isEqualTo(JobStatus.FAILED);
            assertThat(fails.to().attempts()).as("it never started").isZero();
            assertThat(Json.tree(fails.error()).get("retryable").asBoolean()).isFalse();
        }

        @Test
        void withoutAHandlerItFailsOnceGivenBackMoreOftenThanAnyJobMayBe() {
            var elsewhere = new JobLifecycle(RetryPolicyTest.policy(0.0), (queue, type) -> Optional.of(true));
            var max = JobLifecycle.MAX_HAND_BACKS;

            var update = elsewhere.finished(queued(0, max), givenBack(1, JobError.NO_HANDLER, max), NOW, JOB);

            assertThat(update.to().status()).isEqualTo(JobStatus.FAILED);
            assertThat(Json.tree(update.error()).get("message").asString())
                    .contains("given back " + (max + 1) + " times by workers without its handler");
        }
    }

    @Test
    void noDecisionMakesAMoveTheStateMachineForbids() {
        var succeeded = new JobState(ID, JobStatus.SUCCEEDED, 1, 0, 3, 3, 0, 0, false);

        assertThatThrownBy(() -> succeeded.moveTo(JobStatus.SCHEDULED)).isInstanceOf(IllegalStateException.class);
    }
}
