package dev.conveyor.worker.execute;

import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.common.message.JobError;
import java.util.Set;

/**
 * What a handler's exception says: its error and the wait it asks for before the next attempt. Read on the handler's
 * own thread, as it ends ({@link Attempt}): the exception is the handler's own class, whose {@code getMessage()} or
 * fields may throw, overflow the stack or never return; one that never returns keeps that thread, not the attempt's
 * report, which goes out at the attempt's deadline.
 */
record Thrown(JobError error, Long retryAfterMs) {

    /** Codes a handler's failure may not carry: the api gives them a meaning of their own. */
    private static final Set<String> RESERVED_CODES = Set.of(JobError.WORKER_LOST, JobError.NO_HANDLER);

    /** The error as the handler's exception tells it; its code and message are made storable when it is reported. */
    static Thrown read(Throwable cause) {
        try {
            if (cause instanceof JobFailure failure) {
                var code = failure.code();
                var retryAfter = JobOutcomes.retryAfterMillis(failure.retryAfter());
                if (RESERVED_CODES.contains(code)) {
                    // the api takes these for the worker's own word: WORKER_LOST for a job handed back (run again
                    // at once, uncounted, even when the handler said not to retry), NO_HANDLER for a worker without
                    // the job's type
                    return new Thrown(new JobError(JobError.HANDLER_ERROR, "(error code '" + code + "' is reserved "
                            + "for Conveyor's own failures) " + failure.getMessage(), failure.retryable()), retryAfter);
                }
                return new Thrown(new JobError(code, failure.getMessage(), failure.retryable()), retryAfter);
            }
            var message = cause.getMessage() == null ? cause.getClass().getName() : cause.getMessage();
            return new Thrown(new JobError(JobError.HANDLER_ERROR, message, true), null);
        } catch (Throwable unreadable) {
            // A message or a field that throws must not keep its job from being reported (it escaped to the thread
            // taking the record, which died, and the job waited for the rescuer); nor one that overflows the stack (a
            // message made from objects that refer to each other).
            return new Thrown(new JobError(JobError.HANDLER_ERROR, "the handler threw " + cause.getClass().getName()
                    + ", whose message or fields could not be read (" + unreadable.getClass().getName() + ")", true),
                    null);
        }
    }
}
