package dev.conveyor.api.submit;

import dev.conveyor.api.web.FieldError;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * What PostgreSQL can store, checked before a request is coalesced with others: one row the database refuses
 * would fail the whole insert. {@code text} and {@code jsonb} refuse the NUL character; an unpaired UTF-16
 * surrogate is not Unicode (the driver would silently store {@code ?}); {@code timestamptz} ends in the year
 * 294276; a JSON number too large for a double would be written back as the string {@code "Infinity"}, and one
 * that is very large or very small comes back from {@code jsonb} written out in full. And a payload nested deeper
 * than {@link #MAX_DEPTH} could be stored but not listed.
 */
final class Storable {

    /** The latest {@code runAt}: the end of the year 9999, far inside {@code timestamptz}'s range. */
    static final Instant LATEST_RUN_AT = Instant.parse("9999-12-31T23:59:59.999Z");

    /** Reported per payload at most, so that a hostile payload cannot make a huge answer. */
    private static final int MAX_PAYLOAD_ERRORS = 10;
    /** The longest field name, and the longest path, an error names in full; longer ones are cut (with "…"). */
    static final int MAX_NAME_CHARS = 64;
    static final int MAX_PATH_CHARS = 1000;
    /**
     * The deepest nesting of a payload (the payload itself is level 1). The api reads JSON up to 500 levels, and its
     * answers wrap a payload in up to three more ({@code GET /v1/jobs}: an object, its {@code jobs} array, the job),
     * which Jackson, like many JSON libraries, would refuse to write, or a client to read, past 500.
     */
    static final int MAX_DEPTH = 480;

    private Storable() {
    }

    /** Why the text cannot be stored, or null when it can. */
    static String textProblem(String text) {
        for (var i = 0; i < text.length(); i++) {
            var c = text.charAt(i);
            if (c == '\u0000') {
                return "must not contain the NUL character (\\u0000), which cannot be stored";
            }
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return "must not contain an unpaired surrogate (\\u" + Integer.toHexString(c)
                        + "), which is not Unicode";
            }
        }
        return null;
    }

    /**
     * Adds an error for every string, field name and number in the payload that cannot be stored, naming it by
     * its path ({@code payload.a.b[1]}).
     */
    static void checkPayload(JsonNode payload, String path, List<FieldError> errors) {
        if (isStorable(payload, 1)) {
            return;
        }
        var limit = errors.size() + MAX_PAYLOAD_ERRORS;
        collect(payload, new Place(null, path, -1), 1, errors, limit);
    }

    /**
     * How many bytes longer the payload is as PostgreSQL writes it back than as JSON: {@code jsonb} keeps numbers
     * as {@code numeric} and writes them out in full, so {@code 1e308} comes back as 309 digits. Counted so that
     * the size limit holds for what is stored, read and published, not only for what was sent.
     */
    static long expansion(JsonNode node) {
        if (node.isContainer()) {
            var extra = 0L;
            for (var child : node) {
                extra += expansion(child);
            }
            return extra;
        }
        if (!node.isDouble() && !node.isFloat()) {
            return 0;
        }
        var value = Math.abs(node.asDouble());
        // in between, a double's shortest form is about as long as its digits written out
        if (value == 0 || !Double.isFinite(value) || (value >= 1e-7 && value < 1e21)) {
            return 0;
        }
        var shortest = Double.toString(node.asDouble());
        return Math.max(0, new BigDecimal(shortest).toPlainString().length() - shortest.length());
    }

    /** The fast check of every request: no allocation unless something is wrong. */
    private static boolean isStorable(JsonNode node, int level) {
        if (node.isContainer() && level > MAX_DEPTH) {
            return false;
        }
        if (node.isObject()) {
            for (var field : node.properties()) {
                if (textProblem(field.getKey()) != null || !isStorable(field.getValue(), level + 1)) {
                    return false;
                }
            }
            return true;
        }
        if (node.isArray()) {
            for (var element : node) {
                if (!isStorable(element, level + 1)) {
                    return false;
                }
            }
            return true;
        }
        if (node.isString()) {
            return textProblem(node.asString()) == null;
        }
        return !isOutOfRange(node);
    }

    /**
     * Where a value sits in the payload, as a chain to its parent: the text ({@code payload.a.b[1]}) is written only
     * for the values reported. Built eagerly, a path per level of a payload nested 500 deep with long field names
     * held gigabytes at once.
     */
    private record Place(Place parent, String name, int index) {

        Place field(String name) {
            return new Place(this, name, -1);
        }

        Place element(int index) {
            return new Place(this, null, index);
        }

        /** The path's text: each field name cut to {@link #MAX_NAME_CHARS}, the whole to {@link #MAX_PATH_CHARS}. */
        String text() {
            var steps = new ArrayDeque<Place>();
            for (var place = this; place != null; place = place.parent()) {
                steps.push(place);
            }
            var out = new StringBuilder();
            for (var step : steps) {
                if (step.parent() == null) {
                    out.append(step.name());
                } else if (step.name() != null) {
                    var name = printable(step.name());
                    out.append('.').append(name.length() > MAX_NAME_CHARS
                            ? name.substring(0, MAX_NAME_CHARS) + "…" : name);
                } else {
                    out.append('[').append(step.index()).append(']');
                }
            }
            if (out.length() > MAX_PATH_CHARS) {
                var tail = MAX_PATH_CHARS / 2;
                return out.substring(0, MAX_PATH_CHARS - tail - 1) + "…" + out.substring(out.length() - tail);
            }
            return out.toString();
        }
    }

    private static void collect(JsonNode node, Place place, int level, List<FieldError> errors, int limit) {
        if (errors.size() >= limit) {
            return;
        }
        if (node.isContainer() && level > MAX_DEPTH) {
            errors.add(new FieldError(place.text(), "is nested " + level + " levels deep in the payload; at most "
                    + MAX_DEPTH + " are allowed, so that every answer that wraps the payload stays readable"));
            return;
        }
        if (node.isObject()) {
            for (var field : node.properties()) {
                var keyProblem = textProblem(field.getKey());
                var child = place.field(field.getKey());
                if (keyProblem != null && errors.size() < limit) {
                    errors.add(new FieldError(child.text(), "the field name " + keyProblem));
                }
                collect(field.getValue(), child, level + 1, errors, limit);
            }
        } else if (node.isArray()) {
            for (var i = 0; i < node.size(); i++) {
                collect(node.get(i), place.element(i), level + 1, errors, limit);
            }
        } else if (node.isString()) {
            var problem = textProblem(node.asString());
            if (problem != null) {
                errors.add(new FieldError(place.text(), problem));
            }
        } else if (isOutOfRange(node)) {
            errors.add(new FieldError(place.text(),
                    "must be a number from -1.7976931348623157E308 to 1.7976931348623157E308"));
        }
    }

    /** Numbers with a fraction or an exponent are read as doubles; beyond their range they become infinite. */
    private static boolean isOutOfRange(JsonNode node) {
        return (node.isDouble() || node.isFloat()) && !Double.isFinite(node.asDouble());
    }

    /** A field name as it can appear in an error: NUL and unpaired surrogates escaped. */
    private static String printable(String name) {
        if (textProblem(name) == null) {
            return name;
        }
        var out = new StringBuilder();
        for (var i = 0; i < name.length(); i++) {
            var c = name.charAt(i);
            var paired = Character.isHighSurrogate(c) && i + 1 < name.length()
                    && Character.isLowSurrogate(name.charAt(i + 1));
            if (paired) {
                out.append(c).append(name.charAt(++i));
            } else if (c == '\u0000' || Character.isSurrogate(c)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
