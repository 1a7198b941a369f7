package dev.conveyor.api.web;

/** The job store failed in a way that left nothing stored; answered with 503. */
public class StoreUnavailableException extends RuntimeException {

    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
