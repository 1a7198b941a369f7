package dev.conveyor.worker.handlers;

import dev.conveyor.common.JsonNumbers;
import dev.conveyor.common.handler.JobFailure;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * Strict reading of the built-in handlers' payloads, as {@code http} and {@code sql} read theirs: an unknown field, or
 * a value of the wrong type or out of range, fails the attempt for good with a message naming the field. Never
 * Jackson's own conversions ({@code asLong()} on 2^70 throws, {@code asInt()} on 1.5 gives 1), which failed a job
 * retryably with Jackson's words, or ran it with a number nobody sent.
 */
final class Payloads {

    private Payloads() {
    }

    /** Refuses any field of {@code payload} not among {@code fields}. */
    static void onlyFields(JsonNode payload, String type, List<String> fields) {
        for (var name : payload.propertyNames()) {
            if (!fields.contains(name)) {
                throw JobFailure.notRetryable("payload." + name + " is not a field of a " + type + " job (it has "
                        + String.join(", ", fields) + ")");
            }
        }
    }

    /**
     * The integer {@code field} from {@code min} to {@code max} ({@code 3}, {@code 3.0} and {@code 3e0} alike, as the
     * api reads its own fields), or null when it is absent or null.
     */
    static Long integer(JsonNode payload, String field, long min, long max) {
        var value = payload.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        var whole = JsonNumbers.wholeIn(value, min, max);
        if (whole == null) {
            throw JobFailure.notRetryable("payload." + field + " must be an integer from " + min + " to " + max);
        }
        return whole;
    }

    /** The text {@code field}, or {@code otherwise} when it is absent or null. */
    static String text(JsonNode payload, String field, String otherwise) {
        var value = payload.get(field);
        if (value == null || value.isNull()) {
            return otherwise;
        }
        if (!value.isString()) {
            throw JobFailure.notRetryable("payload." + field + " must be text");
        }
        return value.asString();
    }

    /** The boolean {@code field}, or {@code otherwise} when it is absent or null. */
    static boolean bool(JsonNode payload, String field, boolean otherwise) {
        var value = payload.get(field);
        if (value == null || value.isNull()) {
            return otherwise;
        }
        if (!value.isBoolean()) {
            throw JobFailure.notRetryable("payload." + field + " must be true or false");
        }
        return value.asBoolean();
    }
}
