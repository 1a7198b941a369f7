package dev.conveyor.worker.execute;

import dev.conveyor.common.message.JobDispatch;
import java.util.regex.Pattern;

/**
 * Checks a job record read from Kafka as the api checks a submission, so that a record no api would write (a bug,
 * another producer, a damaged record) is refused alone instead of running with absurd values.
 */
final class DispatchCheck {

    /** Longest {@code timeoutSeconds}: a day, as the contract allows. */
    static final int MAX_TIMEOUT_SECONDS = 86_400;

    private static final Pattern TYPE = Pattern.compile("[a-z0-9][a-z0-9._-]{0,99}");
    private static final Pattern QUEUE = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");

    private DispatchCheck() {
    }

    /** What is wrong with {@code job}, or null when it may run. */
    static String problem(JobDispatch job) {
        if (job == null) {
            return "the record is empty";
        }
        if (job.v() != JobDispatch.VERSION) {
            return "v is " + job.v() + "; this worker reads version " + JobDispatch.VERSION;
        }
        if (job.jobId() == null) {
            return "jobId is missing";
        }
        if (job.type() == null || !TYPE.matcher(job.type()).matches()) {
            return "type is not a job type ([a-z0-9][a-z0-9._-]{0,99})";
        }
        if (job.queue() == null || !QUEUE.matcher(job.queue()).matches()) {
            return "queue is not a queue name ([a-z0-9][a-z0-9_-]{0,63})";
        }
        if (job.attempt() < 1 || job.maxAttempts() < 1) {
            return "attempt " + job.attempt() + " and maxAttempts " + job.maxAttempts() + " must be at least 1";
        }
        if (job.timeoutSeconds() < 1 || job.timeoutSeconds() > MAX_TIMEOUT_SECONDS) {
            return "timeoutSeconds " + job.timeoutSeconds() + " is not from 1 to " + MAX_TIMEOUT_SECONDS;
        }
        if (job.payload() == null || !job.payload().isObject()) {
            return "payload is not a JSON object";
        }
        if (job.generation() < 0) {
            return "generation " + job.generation() + " is negative";
        }
        return null;
    }
}
