package dev.conveyor.client;

/** A request that did not get an answer the client could use: the api unreachable, or an unreadable answer. */
public class ConveyorException extends RuntimeException {

    public ConveyorException(String message, Throwable cause) {
        super(message, cause);
    }
}
