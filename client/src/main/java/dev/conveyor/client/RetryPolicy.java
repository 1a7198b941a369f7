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
        var full = baseDelay.multipliedBy(1L << Math.min(next - 2, 30));
        if (full.compareTo(maxDelay) > 0 || full.isNegative()) {
            full = maxDelay;
        }
        var half = full.toMillis() / 2;
        return Duration.ofMillis(half + ThreadLocalRandom.current().nextLong(full.toMillis() - half + 1));
    }
}
