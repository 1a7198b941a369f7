package dev.conveyor.api.wakeup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.job.Job;
import dev.conveyor.common.JobStatus;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class JobWaitersTest {

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final JobWaiters waiters = new JobWaiters(meters);
    private final UUID id = UUID.randomUUID();

    @Test
    void everyWaiterOfAJobIsWokenByItsEnd() throws InterruptedException {
        try (var first = waiters.register(id); var second = waiters.register(id)) {
            assertThat(open()).isEqualTo(2);

            waiters.wake(List.of(UUID.randomUUID(), id));

            assertThat(first.await(Duration.ofSeconds(5))).isTrue();
            assertThat(second.await(Duration.ofSeconds(5))).isTrue();
        }
        assertThat(open()).isZero();
    }

    @Test
    void aWaiterBlocksUntilWokenAndSaysSoWhenTheTimeIsUp() throws InterruptedException {
        try (var registration = waiters.register(id)) {
            assertThat(registration.await(Duration.ofMillis(20))).isFalse();

            var woken = CompletableFuture.supplyAsync(() -> {
                try {
                    return registration.await(Duration.ofSeconds(30));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            waiters.wake(List.of(id));

            assertThat(woken.join()).isTrue();
        }
    }

    @Test
    void aWaiterRegisteredAfterAWakeWaitsForTheNextOne() throws InterruptedException {
        waiters.register(id).close();
        waiters.wake(List.of(id));
        try (var late = waiters.register(id)) {
            assertThat(late.await(Duration.ofMillis(20))).isFalse();
            waiters.wakeAll();
            assertThat(late.await(Duration.ofSeconds(5))).isTrue();
        }
    }

    @Test
    void aJobSubmittedHereIsKnownUnendedToItsTenantAndAdminsUntilItsEndIsSeen() {
        waiters.submitting(id, "acme");

        assertThat(waiters.knownUnended(id, "acme")).isTrue();
        assertThat(waiters.knownUnended(id, null)).isTrue();
        assertThat(waiters.knownUnended(id, "other")).isFalse();
        assertThat(waiters.knownUnended(UUID.randomUUID(), null)).isFalse();

        waiters.wake(List.of(id));
        assertThat(waiters.knownUnended(id, "acme")).isFalse();
    }

    @Test
    void aJobNotStoredOrPastAMissedNotificationIsReadAgain() {
        var other = UUID.randomUUID();
        waiters.submitting(id, null);
        waiters.submitting(other, null);

        waiters.notStored(id);
        assertThat(waiters.knownUnended(id, null)).isFalse();
        assertThat(waiters.knownUnended(other, null)).isTrue();

        waiters.wakeAll();
        assertThat(waiters.knownUnended(other, null)).isFalse();
    }

    @Test
    void onlyTheMostRecentSubmissionsAreRemembered() {
        waiters.submitting(id, null);
        var last = UUID.randomUUID();
        for (var i = 1; i < JobWaiters.RECENT; i++) {
            last = UUID.randomUUID();
            waiters.submitting(last, null);
        }
        assertThat(waiters.knownUnended(id, null)).isTrue();

        var newest = UUID.randomUUID();
        waiters.submitting(newest, null);

        assertThat(waiters.knownUnended(id, null)).isFalse();
        assertThat(waiters.knownUnended(last, null)).isTrue();
        assertThat(waiters.knownUnended(newest, null)).isTrue();
    }

    @Test
    void aJobHandedOverWithItsWakeUpIsGivenToWaitersWhoMaySeeIt() throws InterruptedException {
        var job = new Job(id, "echo", "default", JobStatus.SUCCEEDED, null, null, null, 1, 3, 60, null, "w1",
                Instant.EPOCH, Instant.EPOCH, Instant.EPOCH, Instant.EPOCH, Instant.EPOCH, null);
        assertThat(waiters.handOverPending(id)).as("nobody waits").isFalse();
        try (var registration = waiters.register(id)) {
            assertThat(waiters.handOverPending(id)).isTrue();

            waiters.wake(List.of(id));
            assertThat(registration.await(Duration.ofMillis(20)))
                    .as("the NOTIFY of the same end does not wake it without the row").isFalse();
            waiters.wake(List.of(id), Map.of(id, new JobWaiters.Ended(job, "acme")));

            assertThat(registration.await(Duration.ofSeconds(5))).isTrue();
            assertThat(registration.handed("acme")).isSameAs(job);
            assertThat(registration.handed(null)).as("an admin sees every tenant's jobs").isSameAs(job);
            assertThat(registration.handed("other")).as("another tenant reads, and is answered 404").isNull();
        }
        assertThat(waiters.handOverPending(id)).isFalse();
    }

    @Test
    void aTransactionThatDidNotCommitWakesTheWaitersItKeptToReadAgain() throws InterruptedException {
        try (var kept = waiters.register(id)) {
            assertThat(waiters.handOverPending(id)).isTrue();

            waiters.wake(List.of(id), Map.of());

            assertThat(kept.await(Duration.ofSeconds(5))).isTrue();
            assertThat(kept.handed(null)).isNull();
        }
        try (var later = waiters.register(id)) {
            waiters.wake(List.of(id));
            assertThat(later.await(Duration.ofSeconds(5))).as("a new registration is not kept").isTrue();
        }
    }

    @Test
    void aWakeUpWithoutTheJobHandsNothingOver() throws InterruptedException {
        try (var registration = waiters.register(id)) {
            waiters.wake(List.of(id));

            assertThat(registration.await(Duration.ofSeconds(5))).isTrue();
            assertThat(registration.handed(null)).isNull();
        }
    }

    private double open() {
        return meters.get("conveyor.longpolls.open").gauge().value();
    }
}
