package dev.conveyor.worker.execute;

import dev.conveyor.common.JsonNumbers;
import dev.conveyor.common.message.JobDispatch;
import java.math.BigDecimal;
import java.util.ArrayDeque;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * Checks a job record read from Kafka as the api checks a submission, so that a record no api would write (a bug,
 * another producer, a damaged record) is refused alone instead of running with absurd values.
 */
final class DispatchCheck {

    /** Longest {@code timeoutSeconds}: a day, as the contract allows. */
    static final int MAX_TIMEOUT_SECONDS = 86_400;

    /** The deepest nesting of a payload the api accepts (the payload itself is level 1). */
    static final int MAX_PAYLOAD_DEPTH = 480;
    /** The largest number with a fraction or an exponent the api accepts in a payload: a double's. */
    private static final BigDecimal LARGEST = new BigDecimal(Double.MAX_VALUE);

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
        return payloadProblem(job.payload());
    }

    /**
     * What the api would refuse in a payload that Jackson reads: nesting past {@link #MAX_PAYLOAD_DEPTH} (Jackson takes
     * 500 levels for the whole record), and a number beyond a double's range or longer than
     * {@link JsonNumbers#MAX_CHARS} characters written out in full. Such a number is short text ({@code 1e-999999999})
     * that a handler's {@code BigDecimal} arithmetic works out to a billion digits. Integers are read only up to
     * Jackson's 1,000 characters, as the api reads them. One walk, without recursion, over the values of the payload.
     */
    private static String payloadProblem(JsonNode payload) {
        var containers = new ArrayDeque<JsonNode>();
        var depths = new ArrayDeque<Integer>();
        containers.push(payload);
        depths.push(1);
        while (!containers.isEmpty()) {
            var container = containers.pop();
            int depth = depths.pop();
            if (depth > MAX_PAYLOAD_DEPTH) {
                return "payload is nested deeper than " + MAX_PAYLOAD_DEPTH + " levels, which the api refuses";
            }
            for (var value : container.values()) {
                if (value.isContainer()) {
                    containers.push(value);
                    depths.push(depth + 1);
                } else if (value.isBigDecimal()) {
                    var number = value.decimalValue();
                    if (number.abs().compareTo(LARGEST) > 0 || !JsonNumbers.storable(number)) {
                        return "payload holds a number the api refuses (" + number + "): beyond a double's range, or "
                                + "longer than " + JsonNumbers.MAX_CHARS + " characters written out in full";
                    }
                }
            }
        }
        return null;
    }
}
