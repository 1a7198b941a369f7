package dev.conveyor.api.limits;

/**
 * A token bucket: {@code rate} tokens a second up to {@code size}. Hand-written (a dozen lines) rather than a
 * dependency: Bucket4j would do it, but nothing else here needs it, and this one is taken with the job count of a
 * batch at once.
 */
final class TokenBucket {

    private final double ratePerNano;
    private final double size;
    private double tokens;
    private long updated;

    TokenBucket(double ratePerSecond, int size) {
        this.ratePerNano = ratePerSecond / 1e9;
        this.size = size;
        this.tokens = size;
        this.updated = System.nanoTime();
    }

    /** Takes {@code n} tokens if there are; otherwise takes none and answers how many ns until there would be. */
    synchronized long take(int n, long now) {
        tokens = Math.min(size, tokens + (now - updated) * ratePerNano);
        updated = now;
        if (tokens >= n) {
            tokens -= n;
            return 0;
        }
        return n > size ? Long.MAX_VALUE / 2 : (long) Math.ceil((n - tokens) / ratePerNano);
    }
}
