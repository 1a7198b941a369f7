package dev.conveyor.common.handler;

import java.time.Duration;

/**
 * Thrown by a handler to fail an attempt with a chosen error code and retryability (and, optionally, a minimum
 * wait before the next attempt).
 */
public class JobFailure extends RuntimeException {

    private final String code;
    private final boolean retryable;
    private final Duration retryAfter;

    public JobFailure(String code, String message, boolean retryable, Duration retryAfter, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.retryable = retryable;
        this.retryAfter = retryAfter;
    }

    /** A {@code HANDLER_ERROR} that another attempt may fix. */
    public static JobFailure retryable(String message) {
        return new JobFailure("HANDLER_ERROR", message, true, null, null);
    }

    /** A {@code HANDLER_ERROR} that no further attempt can fix: the job fails now. */
    public static JobFailure notRetryable(String message) {
        return new JobFailure("HANDLER_ERROR", message, false, null, null);
    }

    public String code() {
        return code;
    }

    public boolean retryable() {
        return retryable;
    }

    /** The least time to wait before the next attempt, or null to leave it to the retry policy. */
    public Duration retryAfter() {
        return retryAfter;
    }
}
