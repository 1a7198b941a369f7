package dev.conveyor.api.results;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.common.JobStatus;
import dev.conveyor.common.message.JobError;
import dev.conveyor.common.message.JobFinished;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

    private static final Instant NOW = Instant.parse("2026-11-28T10:00:00Z");

    private final RetryPolicy noJitter = policy(0.0);

    private static RetryPolicy policy(double jitter) {
        return new RetryPolicy(new ApiProperties(262_144, 67_108_864, 3, (short) 1, 2, 500,
                new ApiProperties.Dispatch(Duration.ofMillis(250), 500, Duration.ofSeconds(30)),
                new ApiProperties.Retry(Duration.ofSeconds(1), Duration.ofSeconds(60), jitter),
                Duration.ofMinutes(2), Duration.ofSeconds(15), Duration.ofSeconds(30), java.util.List.of("default")));
    }

    private static JobFinished failed(int attempt, int maxAttempts, boolean retryable, Long retryAfterMs) {
        return new JobFinished(1, UUID.randomUUID(), attempt, maxAttempts, "w", JobFinished.Outcome.FAILED, null,
                new JobError("HANDLER_ERROR", "x", retryable), retryAfterMs, NOW);
    }

    @Test
    void aRetryableFailureWithAttemptsLeftIsScheduledAfterExponentialBackoff() {
        assertThat(noJitter.decide(failed(1, 5, true, null), NOW))
                .isEqualTo(new RetryPolicy.Decision(JobStatus.SCHEDULED, NOW.plusSeconds(1)));
        assertThat(noJitter.decide(failed(3, 5, true, null), NOW))
                .isEqualTo(new RetryPolicy.Decision(JobStatus.SCHEDULED, NOW.plusSeconds(4)));
    }

    @Test
    void backoffIsCapped() {
        assertThat(noJitter.backoff(40)).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void jitterSpreadsDelaysWithinItsFraction() {
        var jittery = policy(0.2);
        for (var i = 0; i < 200; i++) {
            assertThat(jittery.backoff(2)).isBetween(Duration.ofMillis(1600), Duration.ofMillis(2400));
        }
    }

    @Test
    void theLastAttemptFails() {
        assertThat(noJitter.decide(failed(3, 3, true, null), NOW).status()).isEqualTo(JobStatus.FAILED);
    }

    @Test
    void aFailureThatIsNotRetryableFailsAtOnce() {
        assertThat(noJitter.decide(failed(1, 3, false, null), NOW).status()).isEqualTo(JobStatus.FAILED);
    }

    @Test
    void aRetryAfterLongerThanTheBackoffIsHonoured() {
        assertThat(noJitter.decide(failed(1, 3, true, 30_000L), NOW).retryAt()).isEqualTo(NOW.plusSeconds(30));
    }
}
