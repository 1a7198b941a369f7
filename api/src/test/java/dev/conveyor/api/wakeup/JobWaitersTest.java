package dev.conveyor.api.wakeup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.job.Job;
import dev.conveyor.common.JobStatus;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class JobWaitersTest {

    private final JobWaiters waiters = new JobWaiters(new SimpleMeterRegistry());
    private final UUID id = UUID.randomUUID();

    @Test
    void aWaiterWokenWithItsEndedJobAnswersWithIt() throws InterruptedException {
        try (var first = waiters.register(id); var second = waiters.register(id)) {
            assertThat(waiters.isWaitedFor(id)).isTrue();
            var ended = ended(id);

            waiters.wake(List.of(id), Map.of(id, ended));

            assertThat(first.await(Duration.ofSeconds(5))).containsSame(ended);
            assertThat(second.await(Duration.ofSeconds(5))).containsSame(ended);
        }
        assertThat(waiters.isWaitedFor(id)).isFalse();
    }

    @Test
    void aWaiterWokenWithoutItsJobReadsItAgain() throws InterruptedException {
        try (var registration = waiters.register(id)) {
            var other = UUID.randomUUID();

            waiters.wake(List.of(id, other), Map.of(other, ended(other)));

            assertThat(registration.await(Duration.ofSeconds(5))).isEmpty();
        }
        try (var registration = waiters.register(id)) {
            waiters.wake(List.of(id));

            assertThat(registration.await(Duration.ofSeconds(5))).isEmpty();
        }
    }

    @Test
    void aWaiterBlocksUntilWokenAndGetsNothingWhenTheTimeIsUp() throws InterruptedException {
        try (var registration = waiters.register(id)) {
            assertThat(registration.await(Duration.ofMillis(20))).isEmpty();

            var ended = ended(id);
            var answer = CompletableFuture.supplyAsync(() -> {
                try {
                    return registration.await(Duration.ofSeconds(30));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            waiters.wake(List.of(id), Map.of(id, ended));

            assertThat(answer.join()).isEqualTo(Optional.of(ended));
        }
    }

    @Test
    void aJobNobodyWaitsForIsNotWaitedFor() {
        assertThat(waiters.isWaitedFor(id)).isFalse();
        waiters.register(id).close();
        assertThat(waiters.isWaitedFor(id)).isFalse();
    }

    private static Job ended(UUID id) {
        var now = Instant.now();
        return new Job(id, "echo", "default", JobStatus.SUCCEEDED, null, null, null, 1, 3, 60, null, "w1", now, now,
                now, now, now, null);
    }
}
