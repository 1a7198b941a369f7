package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.conveyor.common.Json;
import dev.conveyor.common.message.JobDispatch;
import dev.conveyor.common.message.JobFinished;
import dev.conveyor.common.test.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A worker remembers a cancellation for a week from when it was made, and at most a bounded number of them, forgetting
 * the oldest first at a constant cost per cancellation: its start-up replay of a week of {@code conveyor.control}
 * stays quick however many there were.
 */
class RememberedCancellationsTest {

    private final TestClock clock = new TestClock(Instant.parse("2026-12-01T00:00:00Z"));

    private static UUID[] jobs(int count) {
        var jobs = new UUID[count];
        for (var i = 0; i < count; i++) {
            jobs[i] = UUID.randomUUID();
        }
        return jobs;
    }

    @Test
    void twoHundredThousandCancellationsTakeLinearTime() {
        var attempts = new RunningAttempts();
        var jobs = jobs(200_000);

        // Well under a second here; looking through every remembered cancellation on each one past 100,000, as the
        // worker once did, is some 10^10 steps, minutes: the bound tells the two apart with room for a slow machine.
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            for (var job : jobs) {
                attempts.cancel(job, 0);
            }
        });

        assertThat(attempts.isCancelled(jobs[0], 0)).isTrue();
        assertThat(attempts.isCancelled(jobs[jobs.length - 1], 0)).isTrue();
    }

    @Test
    void aCancellationIsForgottenAWeekAfterItWasMadeHoweverLateItWasRead() {
        var attempts = new RunningAttempts(clock, RunningAttempts.MOST_REMEMBERED);
        var jobs = jobs(4);

        attempts.cancel(jobs[0], 0, clock.instant().minus(Duration.ofDays(8)));
        attempts.cancel(jobs[1], 0, clock.instant().minus(Duration.ofDays(6)));
        attempts.cancel(jobs[2], 0, clock.instant().minus(Duration.ofDays(1)));
        assertThat(attempts.isCancelled(jobs[0], 0)).as("made 8 days ago, read now").isFalse();
        assertThat(attempts.isCancelled(jobs[1], 0)).isTrue();

        clock.advance(Duration.ofDays(2));
        attempts.cancel(jobs[3], 0);

        assertThat(attempts.isCancelled(jobs[1], 0)).as("made 8 days ago now").isFalse();
        assertThat(attempts.isCancelled(jobs[2], 0)).isTrue();
        assertThat(attempts.isCancelled(jobs[3], 0)).isTrue();
    }

    @Test
    void beyondTheBoundTheOldestAreForgotten() {
        var attempts = new RunningAttempts(clock, 1_000);
        var jobs = jobs(200_000);

        for (var job : jobs) {
            attempts.cancel(job, 0);
        }

        assertThat(attempts.isCancelled(jobs[jobs.length - 1_001], 0)).isFalse();
        assertThat(attempts.isCancelled(jobs[jobs.length - 1_000], 0)).isTrue();
        assertThat(attempts.isCancelled(jobs[jobs.length - 1], 0)).isTrue();
    }

    @Test
    void aJobCancelledAgainIsRememberedFromItsLaterCancellation() {
        var attempts = new RunningAttempts(clock, 3);
        var jobs = jobs(3);
        attempts.cancel(jobs[0], 0);
        attempts.cancel(jobs[1], 0);
        attempts.cancel(jobs[2], 0);

        attempts.cancel(jobs[0], 1); // retried, then cancelled again

        assertThat(attempts.isCancelled(jobs[0], 1)).isTrue();
        attempts.cancel(UUID.randomUUID(), 0);
        attempts.cancel(UUID.randomUUID(), 0);
        assertThat(attempts.isCancelled(jobs[1], 0)).isFalse();
        assertThat(attempts.isCancelled(jobs[2], 0)).isFalse();
        assertThat(attempts.isCancelled(jobs[0], 1)).as("the third oldest now").isTrue();
    }

    @Test
    void aCancellationClaimingAGenerationTheJobNeverHadCancelsNoRetryDispatchedAfterIt() throws Exception {
        var testing = new RunnerTesting(RunnerTesting.handler(context -> context.payload()));
        var forged = UUID.randomUUID();
        // written to conveyor.control by hand: every generation up to 2147483647, remembered for a week
        testing.attempts.cancel(forged, Integer.MAX_VALUE, Instant.now().minus(Duration.ofMinutes(5)));
        var waiting = new JobDispatch(JobDispatch.VERSION, forged, "t", "default", 1, 3, 30, Json.object(),
                Instant.now().minus(Duration.ofMinutes(10)), 0);
        var retried = new JobDispatch(JobDispatch.VERSION, forged, "t", "default", 2, 6, 30, Json.object(),
                Instant.now(), 1);

        testing.take(waiting);
        testing.take(retried);

        assertThat(await().atMost(Duration.ofSeconds(10)).until(() -> testing.events.all().stream()
                .filter(e -> e instanceof JobFinished f && f.attempt() == 2).map(JobFinished.class::cast)
                .findFirst().orElse(null), f -> f != null).outcome())
                .as("the retry made after the cancellation runs").isEqualTo(JobFinished.Outcome.SUCCEEDED);
        assertThat(testing.events.finished(forged).outcome())
                .as("a record dispatched before it is still cancelled").isEqualTo(JobFinished.Outcome.CANCELLED);
    }

    @Test
    void aLowerGenerationSentLateDoesNotUndoACancellationOfALaterOne() {
        var attempts = new RunningAttempts(clock, RunningAttempts.MOST_REMEMBERED);
        var job = UUID.randomUUID();
        var made = clock.instant();

        attempts.cancel(job, Integer.MAX_VALUE, made);
        attempts.cancel(job, 3, made.plus(Duration.ofMinutes(30)));
        attempts.cancel(job, 1, made.plus(Duration.ofMinutes(40))); // sent again after an outage

        assertThat(attempts.isCancelled(job, 3, made.plus(Duration.ofMinutes(20))))
                .as("generation 3, dispatched before its cancellation").isTrue();
        assertThat(attempts.isCancelled(job, 5, made.plus(Duration.ofMinutes(60))))
                .as("a retry dispatched after every cancellation").isFalse();
        assertThat(attempts.isCancelled(job, 2, null)).as("dispatched when, not known").isTrue();
    }
}
