package dev.conveyor.api.results;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiProperties;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

    static RetryPolicy policy(double jitter) {
        return new RetryPolicy(new ApiProperties.Retry(Duration.ofSeconds(1), Duration.ofSeconds(60), jitter,
                Duration.ofDays(7), 3));
    }

    private final RetryPolicy noJitter = policy(0.0);

    @Test
    void backoffDoublesWithEachAttempt() {
        assertThat(noJitter.backoff(1)).isEqualTo(Duration.ofSeconds(1));
        assertThat(noJitter.backoff(3)).isEqualTo(Duration.ofSeconds(4));
    }

    @Test
    void backoffIsCapped() {
        assertThat(noJitter.backoff(40)).isEqualTo(Duration.ofSeconds(60));
        assertThat(noJitter.backoff(Integer.MAX_VALUE)).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void jitterSpreadsDelaysWithinItsFraction() {
        var jittery = policy(0.2);
        for (var i = 0; i < 200; i++) {
            assertThat(jittery.backoff(2)).isBetween(Duration.ofMillis(1600), Duration.ofMillis(2400));
        }
    }

    @Test
    void aRetryAfterLongerThanTheBackoffIsHonoured() {
        assertThat(noJitter.delay(1, 30_000L)).isEqualTo(Duration.ofSeconds(30));
        assertThat(noJitter.delay(3, 1_000L)).isEqualTo(Duration.ofSeconds(4));
    }

    @Test
    void anAbsurdRetryAfterIsCappedAtTheLongestWaitAllowed() {
        assertThat(noJitter.delay(1, 315_360_000_000_000L)).isEqualTo(Duration.ofDays(7));
        assertThat(noJitter.delay(1, Long.MAX_VALUE)).isEqualTo(Duration.ofDays(7));
    }

    @Test
    void aLongBaseDelayDoubledPastWhatALongHoldsIsStillCapped() {
        // 100 days doubled 30 times is more milliseconds than a long holds: it wrapped round to a negative delay,
        // and the job was due again at once instead of after max-delay
        var longBase = new RetryPolicy(new ApiProperties.Retry(Duration.ofDays(100), Duration.ofDays(365), 0.0,
                Duration.ofDays(7), 3));
        assertThat(longBase.backoff(31)).isEqualTo(Duration.ofDays(365));
        assertThat(longBase.backoff(100)).isEqualTo(Duration.ofDays(365));
    }
}
