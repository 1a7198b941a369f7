package dev.conveyor.common.handler;

/** Where a handler's progress reports go. */
@FunctionalInterface
public interface ProgressReporter {

    /** Discards reports: for handlers run outside a worker, in their own tests say. */
    ProgressReporter NONE = (fraction, message) -> {
    };

    void report(double fraction, String message);
}
