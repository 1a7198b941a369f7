package dev.conveyor.worker.execute;

import dev.conveyor.common.JsonNumbers;
import dev.conveyor.common.message.JobError;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeType;

/**
 * Keeps what a handler hands back storable. The api keeps results as PostgreSQL {@code jsonb} and messages as
 * {@code text}, which refuse NUL characters, halves of surrogate pairs and numbers beyond {@code numeric}; the
 * events travel as JSON, which has no NaN. A result that cannot be stored fails its own job ({@code RESULT_INVALID},
 * not retryable: the same handler would return it again); messages are repaired and cut instead, since they only
 * explain a failure.
 */
final class JobOutcomes {

    /** Code of a result that cannot be stored as it is. */
    static final String RESULT_INVALID = "RESULT_INVALID";
    /** Longest error message sent, in characters. */
    static final int MAX_MESSAGE_CHARS = 8192;
    /** Longest wait before the next attempt a handler can ask for. */
    /** Keeps a handler's ask in range; whether it is honoured is the api's call ({@code max-retry-after}). */
    static final Duration MAX_RETRY_AFTER = Duration.ofDays(36_500);
    /** Deepest nesting of arrays and objects in a result (JSON readers refuse 500 and more). */
    static final int MAX_DEPTH = 256;
    /** Longest object key in a result, in characters. */
    static final int MAX_KEY_CHARS = 10_000;

    private static final Pattern CODE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    private static final char REPLACEMENT = '\uFFFD';

    private JobOutcomes() {
    }

    /**
     * {@code text} with NUL characters and halves of surrogate pairs replaced by U+FFFD, cut to {@code max}
     * characters (never between the halves of a pair); null stays null.
     */
    static String text(String text, int max) {
        if (text == null) {
            return null;
        }
        var cut = text.length() > max;
        var end = cut ? max - 1 : text.length();
        if (end > 0 && Character.isHighSurrogate(text.charAt(end - 1)) && end < text.length()
                && Character.isLowSurrogate(text.charAt(end))) {
            end--;
        }
        StringBuilder repaired = null;
        for (var i = 0; i < end; i++) {
            var c = text.charAt(i);
            var bad = c == 0 || (Character.isSurrogate(c) && !pairedAt(text, i));
            if (bad && repaired == null) {
                repaired = new StringBuilder(end + 1).append(text, 0, i);
            }
            if (repaired != null) {
                repaired.append(bad ? REPLACEMENT : c);
            }
        }
        if (repaired == null && !cut) {
            return text;
        }
        var result = repaired == null ? new StringBuilder(text.substring(0, end)) : repaired;
        return cut ? result.append('…').toString() : result.toString();
    }

    /** An error with a code of letters, digits, {@code _.-} (else {@code HANDLER_ERROR}) and a storable message. */
    static JobError error(String code, String message, boolean retryable) {
        var usable = code != null && CODE.matcher(code).matches();
        var why = usable || code == null ? message : "(error code '" + code + "' is not usable) " + message;
        return new JobError(usable ? code : JobError.HANDLER_ERROR, text(why, MAX_MESSAGE_CHARS), retryable);
    }

    /**
     * {@code e}'s class and message, for an error message; its class alone when its message cannot be read (the
     * handler's own exception, whose {@code getMessage()} may throw in turn).
     */
    static String describe(Throwable e) {
        String message;
        try {
            message = e.getMessage();
        } catch (Throwable unreadable) {
            message = null;
        }
        return message == null ? e.getClass().getName() : e.getClass().getName() + ": " + message;
    }

    /** The wait a handler asked for in milliseconds, at most {@link #MAX_RETRY_AFTER}; null for none or negative. */
    static Long retryAfterMillis(Duration retryAfter) {
        if (retryAfter == null || retryAfter.isNegative()) {
            return null;
        }
        return retryAfter.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER.toMillis() : retryAfter.toMillis();
    }

    /**
     * Why {@code result} cannot be stored, naming where in it (such as {@code result.items[2].name}); or null. Looks
     * at (and queues) no more than {@code mostValues} values: each is a byte or more written out, so a result with more is
     * refused for its size, and one that shares its nodes (an array holding one array twice, 64 deep: a few objects
     * in the heap) has 2^64 of them, which took the attempt's thread forever.
     */
    static String problem(JsonNode result, long mostValues) {
        if (result == null) {
            return null;
        }
        var pending = new ArrayDeque<Place>();
        pending.push(new Place(result, null, null, -1, 0));
        var values = 0L;
        while (!pending.isEmpty() && values++ < mostValues) {
            var place = pending.pop();
            var node = place.node();
            var why = switch (node.getNodeType()) {
                case STRING -> badText(node.asString());
                case NUMBER -> badNumber(node);
                case POJO -> "is a Java object, not a JSON value";
                case MISSING -> "is missing, not a JSON value";
                default -> null;
            };
            if (why != null) {
                return place.path() + " " + why;
            }
            if (node.isContainer() && place.depth() >= MAX_DEPTH) {
                return place.path() + " is nested deeper than " + MAX_DEPTH + " levels";
            }
            if (node.isContainer() && node.size() > mostValues - values - pending.size()) {
                // more values than may be looked at: refused for its size, without queueing them all first
                return null;
            }
            if (node.getNodeType() == JsonNodeType.OBJECT) {
                for (var entry : node.properties()) {
                    var key = entry.getKey();
                    var badKey = key.length() > MAX_KEY_CHARS ? "is longer than " + MAX_KEY_CHARS + " characters"
                            : badText(key);
                    if (badKey != null) {
                        return place.path() + " has a key that " + badKey + ": '"
                                + text(key, 100) + "'";
                    }
                    pending.push(new Place(entry.getValue(), place, key, -1, place.depth() + 1));
                }
            } else if (node.getNodeType() == JsonNodeType.ARRAY) {
                for (var i = node.size() - 1; i >= 0; i--) {
                    pending.push(new Place(node.get(i), place, null, i, place.depth() + 1));
                }
            }
        }
        return null;
    }

    private static String badText(String text) {
        for (var i = 0; i < text.length(); i++) {
            var c = text.charAt(i);
            if (c == 0) {
                return "holds a NUL character (\\u0000), which cannot be stored; encode binary data, as base64 say";
            }
            if (Character.isSurrogate(c)) {
                if (!pairedAt(text, i)) {
                    return "holds half of a surrogate pair at character " + i + ", which is not valid Unicode";
                }
                i++;
            }
        }
        return null;
    }

    private static String badNumber(JsonNode node) {
        if (node.isFloatingPointNumber() && !node.isBigDecimal()) {
            var value = node.asDouble();
            return Double.isFinite(value) ? null : "is " + value + ", which JSON cannot hold";
        }
        if (node.isBigDecimal()) {
            return JsonNumbers.storable(node.decimalValue()) ? null : tooLong();
        }
        if (node.isBigInteger()) {
            return JsonNumbers.storable(node.bigIntegerValue()) ? null : tooLong();
        }
        return null;
    }

    private static String tooLong() {
        return "is a number beyond what can be stored: at most " + JsonNumbers.MAX_CHARS
                + " characters written out in full, as the api stores and answers it (so 1e-990, not 1e-1000)";
    }

    private static boolean pairedAt(String text, int i) {
        var c = text.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(text.charAt(i - 1));
    }

    /** A node in a result, with what leads to it, so that its path is spelt only when it is reported. */
    private record Place(JsonNode node, Place parent, String key, int index, int depth) {

        String path() {
            if (parent == null) {
                return "result";
            }
            return parent.path() + (key != null ? "." + text(key, 100) : "[" + index + "]");
        }
    }

}
