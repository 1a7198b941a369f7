package dev.conveyor.common.message;

/** Why an attempt failed, as the Job's {@code error} field shows it. */
public record JobError(String code, String message, boolean retryable) {

    public static final String HANDLER_ERROR = "HANDLER_ERROR";
    public static final String TIMEOUT = "TIMEOUT";
    public static final String NO_HANDLER = "NO_HANDLER";
    public static final String WORKER_LOST = "WORKER_LOST";
    public static final String CANCELLED = "CANCELLED";
    public static final String RESULT_TOO_LARGE = "RESULT_TOO_LARGE";
}
