package dev.conveyor.worker.execute;

import dev.conveyor.common.JobLimits;
import dev.conveyor.common.JsonNumbers;
import dev.conveyor.common.message.JobDispatch;
import java.util.ArrayDeque;
import tools.jackson.databind.JsonNode;

/**
 * Checks a job record read from Kafka as the api checks a submission, so that a record no api would write (a bug,
 * another producer, a damaged record) is refused alone instead of running with absurd values. The limits are the
 * api's own ({@link JobLimits}).
 */
final class DispatchCheck {

    // What a payload's nodes take on the heap, a little above Jackson 3's on a 64-bit JVM with compressed references
    // (PayloadWeightTest): an object node with its map and table; an array node with its list; an object's entry, its
    // key and the key's characters (each counted twice: a key may hold characters beyond Latin-1); a slot of an
    // array's list, room to grow included; a string node with its string and the characters' array; a number, a
    // boolean or a null; a big number, besides its digits.
    static final int OBJECT_BYTES = 160;
    static final int ARRAY_BYTES = 64;
    static final int PROPERTY_BYTES = 104;
    static final int SLOT_BYTES = 8;
    static final int STRING_BYTES = 64;
    static final int SCALAR_BYTES = 32;
    static final int BIG_NUMBER_BYTES = 128;

    private DispatchCheck() {
    }

    /**
     * A record's job as checked: what is wrong with it (null when it may run) and, when nothing is, about how many
     * bytes of heap its payload's tree holds ({@link #payloadBytes}).
     */
    record Checked(String problem, long payloadBytes) {

        static Checked refused(String problem) {
            return new Checked(problem, 0);
        }
    }

    /** What is wrong with {@code job}, or null when it may run. */
    static String problem(JobDispatch job) {
        return check(job).problem();
    }

    /** {@code job} checked, with its payload's weight when it may run. */
    static Checked check(JobDispatch job) {
        var problem = fieldsProblem(job);
        return problem != null ? Checked.refused(problem) : payload(job.payload());
    }

    private static String fieldsProblem(JobDispatch job) {
        if (job == null) {
            return "the record is empty";
        }
        if (job.v() != JobDispatch.VERSION) {
            return "v is " + job.v() + "; this worker reads version " + JobDispatch.VERSION;
        }
        if (job.jobId() == null) {
            return "jobId is missing";
        }
        if (job.type() == null || !JobLimits.TYPE.matcher(job.type()).matches()) {
            return "type is not a job type (" + JobLimits.TYPE_PATTERN + ")";
        }
        if (job.queue() == null || !JobLimits.QUEUE.matcher(job.queue()).matches()) {
            return "queue is not a queue name (" + JobLimits.QUEUE_PATTERN + ")";
        }
        if (job.attempt() < 1 || job.maxAttempts() < 1) {
            return "attempt " + job.attempt() + " and maxAttempts " + job.maxAttempts() + " must be at least 1";
        }
        if (job.attempt() - (long) job.maxAttempts() > JobLimits.MAX_ATTEMPTS_UNCHARGED) {
            return "attempt " + job.attempt() + " is more than " + JobLimits.MAX_ATTEMPTS_UNCHARGED
                    + " above maxAttempts " + job.maxAttempts() + ", which no api dispatches";
        }
        if (job.timeoutSeconds() < 1 || job.timeoutSeconds() > JobLimits.MAX_TIMEOUT_SECONDS) {
            return "timeoutSeconds " + job.timeoutSeconds() + " is not from 1 to " + JobLimits.MAX_TIMEOUT_SECONDS;
        }
        if (job.payload() == null || !job.payload().isObject()) {
            return "payload is not a JSON object";
        }
        if (job.generation() < 0) {
            return "generation " + job.generation() + " is negative";
        }
        return null;
    }

    /**
     * What the api would refuse in a payload that Jackson reads: nesting past {@link JobLimits#MAX_PAYLOAD_DEPTH}
     * (Jackson takes 500 levels for the whole record), and a number beyond a double's range or longer than
     * {@link JsonNumbers#MAX_CHARS} characters written out in full. Such a number is short text ({@code 1e-999999999})
     * that a handler's {@code BigDecimal} arithmetic works out to a billion digits. Integers are read only up to
     * Jackson's 1,000 characters, as the api reads them.
     * <p>
     * The same walk, without recursion, weighs the payload's tree: what its job holds on the heap until its handler
     * ends, which is what {@code max-in-flight-bytes} bounds. The tree of a payload is not its JSON's size: an empty
     * object, {@code {}}, takes 3 bytes of a JSON array and about 90 of heap (its node, a map), so 240 KB of
     * {@code [{},{},...]} hold 7 MB. The figures per node are a little above what Jackson's nodes take on a 64-bit
     * JVM with compressed references (measured with JOL: {@code PayloadWeightTest}), so that the bound errs on the
     * side of the heap.
     */
    private static Checked payload(JsonNode payload) {
        var containers = new ArrayDeque<JsonNode>();
        var depths = new ArrayDeque<Integer>();
        containers.push(payload);
        depths.push(1);
        var bytes = OBJECT_BYTES;
        while (!containers.isEmpty()) {
            var container = containers.pop();
            int depth = depths.pop();
            if (depth > JobLimits.MAX_PAYLOAD_DEPTH) {
                return Checked.refused("payload is nested deeper than " + JobLimits.MAX_PAYLOAD_DEPTH
                        + " levels, which the api refuses");
            }
            if (container.isObject()) {
                for (var property : container.properties()) {
                    bytes += PROPERTY_BYTES + 2L * property.getKey().length();
                }
            } else {
                bytes += (long) SLOT_BYTES * container.size();
            }
            for (var value : container.values()) {
                if (value.isContainer()) {
                    bytes += value.isObject() ? OBJECT_BYTES : ARRAY_BYTES;
                    containers.push(value);
                    depths.push(depth + 1);
                } else if (value.isString()) {
                    bytes += STRING_BYTES + 2L * value.stringValue().length();
                } else if (value.isBigDecimal()) {
                    var number = value.decimalValue();
                    if (!JobLimits.payloadNumber(number)) {
                        return Checked.refused("payload holds a number the api refuses (" + number + "): beyond a "
                                + "double's range, or longer than " + JsonNumbers.MAX_CHARS
                                + " characters written out in full");
                    }
                    bytes += BIG_NUMBER_BYTES + number.unscaledValue().bitLength() / 8;
                } else if (value.isBigInteger()) {
                    bytes += BIG_NUMBER_BYTES + value.bigIntegerValue().bitLength() / 8;
                } else {
                    bytes += SCALAR_BYTES;
                }
            }
        }
        return new Checked(null, bytes);
    }
}
