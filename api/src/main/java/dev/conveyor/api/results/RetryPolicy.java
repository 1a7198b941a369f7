package dev.conveyor.api.results;

import dev.conveyor.api.ApiProperties;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/** How long a job waits before its next attempt, and how many lost attempts it may have. */
@Component
class RetryPolicy {

    private final ApiProperties.Retry settings;

    @Autowired
    RetryPolicy(ApiProperties properties) {
        this(properties.retry());
    }

    RetryPolicy(ApiProperties.Retry settings) {
        this.settings = settings;
    }

    /**
     * The wait after the {@code n}th charged attempt failed: the backoff, or longer when the failure asked for it
     * ({@code Retry-After}), but never longer than {@code max-retry-after}.
     */
    Duration delay(int n, Long retryAfterMs) {
        var delay = backoff(n);
        if (retryAfterMs != null && retryAfterMs > delay.toMillis()) {
            delay = Duration.ofMillis(Math.min(retryAfterMs, settings.maxRetryAfter().toMillis()));
        }
        return delay;
    }

    /** Whether a failure asks for a longer wait ({@code Retry-After}) than {@code max-retry-after} allows. */
    boolean waitsTooLong(Long retryAfterMs) {
        return retryAfterMs != null && retryAfterMs > settings.maxRetryAfter().toMillis();
    }

    /** {@code min(max, base * 2^(n-1))}, spread by ±jitter so that failures together do not retry together. */
    Duration backoff(int n) {
        var exponent = Math.min(Math.max(n - 1, 0), 30);
        var max = settings.maxDelay().toMillis();
        // a base of more than 99 days doubled 30 times is past what a long holds: capped before it wraps round
        var nominal = settings.baseDelay().toMillis() > max >> exponent ? max
                : Math.min(max, settings.baseDelay().toMillis() << exponent);
        var spread = 1 + settings.jitter() * (2 * ThreadLocalRandom.current().nextDouble() - 1);
        return Duration.ofMillis(Math.round(nominal * spread));
    }

    int maxLostAttempts() {
        return settings.maxLostAttempts();
    }
}
