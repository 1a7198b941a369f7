package dev.conveyor.client;

/** A job's last failed attempt: a code such as {@code HANDLER_ERROR} or {@code TIMEOUT}, a message, retryability. */
public record JobError(String code, String message, boolean retryable) {
}
