package dev.conveyor.client;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * When the client sends a request again: after a 503 or 429 answer, or a failure to connect or to get an answer, for
 * requests that are safe to repeat (GETs, and POSTs with an idempotency key). It waits what {@code Retry-After}
 * asks, or else an exponential backoff with jitter: {@code min(maxDelay, baseDelay * 2^(n-1))}, between half and all
 * of it. A {@code Retry-After} longer than {@code maxDelay} is not waited for: the request fails at once.
 *
 * @param maxAttempts tries in all, the first included (1 turns retries off)
 */
public record RetryPolicy(int maxAttempts, Duration baseDelay, Duration maxDelay) {

    /** 5 tries, 200 ms doubling to at most 10 s between them. */
    public static final RetryPolicy DEFAULT = new RetryPolicy(5, Duration.ofMillis(200), Duration.ofSeconds(10));

    /** The longest wait a backoff answers, some 146 million years: more milliseconds than a long holds. */
    private static final Duration LONGEST = Duration.ofMillis(Long.MAX_VALUE / 2);

    /** No retries at all. */
    public static final RetryPolicy NONE = new RetryPolicy(1, Duration.ZERO, Duration.ZERO);

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1");
        }
        if (baseDelay.isNegative() || maxDelay.compareTo(baseDelay) < 0) {
            throw new IllegalArgumentException("need 0 <= baseDelay <= maxDelay");
        }
    }

    /** The wait before try {@code next} (2 for the first retry) when the answer named none. */
    Duration backoff(int next) {
        var factor = 1L << Math.min(next - 2, 30);
        // past what a Duration holds (a base of millennia) is past maxDelay
        var full = baseDelay.compareTo(maxDelay.dividedBy(factor)) > 0 ? maxDelay : baseDelay.multipliedBy(factor);
        // and past what a long holds in milliseconds, a near-infinite wait all the same
        var millis = full.compareTo(LONGEST) > 0 ? LONGEST.toMillis() : full.toMillis();
        var half = millis / 2;
        return Duration.ofMillis(half + ThreadLocalRandom.current().nextLong(millis - half + 1));
    }
}
