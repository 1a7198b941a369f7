package dev.conveyor.api.submit;

import dev.conveyor.api.web.FieldError;
import dev.conveyor.common.JobLimits;
import dev.conveyor.common.Json;
import dev.conveyor.common.JsonNumbers;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;

/**
 * What PostgreSQL can store, checked before a request is coalesced with others: one row the database refuses
 * would fail the whole insert. {@code text} and {@code jsonb} refuse the NUL character; an unpaired UTF-16
 * surrogate is not Unicode (the driver would silently store {@code ?}); {@code timestamptz} ends in the year
 * 294276; {@code numeric} holds at most 16,383 digits after the point, and numbers come back from {@code jsonb}
 * written out in full ({@link #numberProblem}). And a payload nested deeper than {@link #MAX_DEPTH} could be stored
 * but not listed.
 */
final class Storable {

    /** The latest {@code runAt}: the end of the year 9999, far inside {@code timestamptz}'s range. */
    static final Instant LATEST_RUN_AT = Instant.parse("9999-12-31T23:59:59.999Z");

    /** Reported per payload at most, so that a hostile payload cannot make a huge answer. */
    private static final int MAX_PAYLOAD_ERRORS = 10;
    /** The longest field name, and the longest path, an error names in full; longer ones are cut (with "…"). */
    static final int MAX_NAME_CHARS = 64;
    static final int MAX_PATH_CHARS = 1000;
    /** The deepest nesting of a payload (the payload itself is level 1): {@link JobLimits#MAX_PAYLOAD_DEPTH}. */
    static final int MAX_DEPTH = JobLimits.MAX_PAYLOAD_DEPTH;
    private static final String RANGE = "must be a number from -1.7976931348623157E308 to 1.7976931348623157E308";

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
     * A payload as it is kept from its request on: its JSON, compact, or null when it cannot be stored or is larger
     * than the limit; its size as stored (numbers written out in full, {@link #numberProblem}); and what is wrong with
     * it, each named by its path ({@code payload.a.b[1]}).
     */
    record Payload(String json, long size, List<FieldError> errors) {
    }

    /**
     * Reads the value under {@code parser} (its first token current) and copies it, compact, checking every string,
     * field name and number and the nesting as it goes. No tree is built: a request's payload is held only as its
     * JSON, however it was written, so that a body is parsed in memory of about its own size. (As a tree, JSON of
     * empty objects takes some 25 times its size: a batch body of 64 MiB took more than the api's heap.)
     *
     * @param path     the payload's name in errors, e.g. {@code jobs[3].payload}
     * @param maxBytes the largest payload kept; a larger one is measured to its end, but not kept
     */
    static Payload copy(JsonParser parser, String path, int maxBytes) {
        var out = new BoundedBytes(maxBytes);
        var place = new Place(path);
        var expansion = 0L;
        try (var generator = Json.MAPPER.createGenerator(out)) {
            var token = parser.currentToken();
            do {
                if (!token.isStructEnd()) {
                    place.nextElement();
                }
                switch (token) {
                    case START_OBJECT, START_ARRAY -> {
                        if (place.depth() + 1 > MAX_DEPTH) {
                            place.report("is nested " + (place.depth() + 1) + " levels deep in the payload; at most "
                                    + MAX_DEPTH + " are allowed, so that every answer that wraps the payload stays "
                                    + "readable");
                            parser.skipChildren();
                            generator.writeNull(); // in its place, so that the copy stays JSON (it is not kept)
                        } else if (token == JsonToken.START_ARRAY) {
                            place.open(true);
                            generator.writeStartArray();
                        } else {
                            place.open(false);
                            generator.writeStartObject();
                        }
                    }
                    case END_OBJECT -> {
                        place.close();
                        generator.writeEndObject();
                    }
                    case END_ARRAY -> {
                        place.close();
                        generator.writeEndArray();
                    }
                    case PROPERTY_NAME -> {
                        var name = parser.currentName();
                        place.name(name);
                        var problem = textProblem(name);
                        if (problem != null) {
                            place.report("the field name " + problem);
                        }
                        generator.writeName(name);
                    }
                    case VALUE_STRING -> {
                        var text = parser.getString();
                        var problem = textProblem(text);
                        if (problem != null) {
                            place.report(problem);
                        }
                        generator.writeString(text);
                    }
                    case VALUE_NUMBER_INT -> generator.copyCurrentEvent(parser);
                    case VALUE_NUMBER_FLOAT -> {
                        // kept as written: jsonb stores it exactly, as numeric
                        var text = parser.getText();
                        var value = decimal(text);
                        var problem = numberProblem(value);
                        if (problem == null) {
                            expansion += Math.max(0, JsonNumbers.plainLength(value) - text.length());
                            generator.writeNumber(text);
                        } else {
                            place.report(problem);
                            generator.writeNull();
                        }
                    }
                    default -> generator.copyCurrentEvent(parser); // true, false, null
                }
            } while (place.depth() > 0 && (token = parser.nextToken()) != null);
        }
        var size = out.count() + expansion;
        var json = place.errors.isEmpty() && size <= maxBytes ? out.text() : null;
        return new Payload(json, size, List.copyOf(place.errors));
    }

    /**
     * Where the copy is in the payload: its open objects and arrays, each at its current field or element, reused
     * level by level; the text of a place ({@code payload.a.b[1]}) is written only for the values reported. (A path
     * built per level of a payload nested 500 deep with long field names held gigabytes at once.)
     */
    private static final class Place {

        private final String root;
        private final List<FieldError> errors = new ArrayList<>();
        private boolean[] arrays = new boolean[8];
        private int[] indexes = new int[8];
        private String[] names = new String[8];
        private int depth;

        Place(String root) {
            this.root = root;
        }

        int depth() {
            return depth;
        }

        void open(boolean array) {
            if (depth == arrays.length) {
                arrays = Arrays.copyOf(arrays, depth * 2);
                indexes = Arrays.copyOf(indexes, depth * 2);
                names = Arrays.copyOf(names, depth * 2);
            }
            arrays[depth] = array;
            indexes[depth] = -1;
            names[depth] = null;
            depth++;
        }

        void close() {
            depth--;
        }

        /** A value begins: in an array, the next element. */
        void nextElement() {
            if (depth > 0 && arrays[depth - 1]) {
                indexes[depth - 1]++;
            }
        }

        void name(String name) {
            names[depth - 1] = name;
        }

        /** Adds an error for the current value, up to {@link #MAX_PAYLOAD_ERRORS}. */
        void report(String problem) {
            if (errors.size() < MAX_PAYLOAD_ERRORS) {
                errors.add(new FieldError(text(), problem));
            }
        }

        /** The path's text: each field name cut to {@link #MAX_NAME_CHARS}, the whole to {@link #MAX_PATH_CHARS}. */
        private String text() {
            var out = new StringBuilder(root);
            for (var level = 0; level < depth; level++) {
                if (arrays[level]) {
                    out.append('[').append(indexes[level]).append(']');
                } else {
                    var name = printable(names[level]);
                    out.append('.').append(name.length() > MAX_NAME_CHARS
                            ? name.substring(0, MAX_NAME_CHARS) + "…" : name);
                }
            }
            if (out.length() > MAX_PATH_CHARS) {
                var tail = MAX_PATH_CHARS / 2;
                return out.substring(0, MAX_PATH_CHARS - tail - 1) + "…" + out.substring(out.length() - tail);
            }
            return out.toString();
        }
    }

    /**
     * Bytes written, all counted but kept only up to a limit: a payload larger than the limit is measured, for its
     * error, without holding it.
     */
    private static final class BoundedBytes extends OutputStream {

        private final int limit;
        private byte[] bytes = new byte[256];
        private long count;

        BoundedBytes(int limit) {
            this.limit = limit;
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] source, int offset, int length) {
            var end = count + length;
            if (end <= limit) {
                if (end > bytes.length) {
                    bytes = Arrays.copyOf(bytes, (int) Math.min(limit, Math.max(end, 2L * bytes.length)));
                }
                System.arraycopy(source, offset, bytes, (int) count, length);
            } else {
                bytes = null;
            }
            count = end;
        }

        long count() {
            return count;
        }

        String text() {
            return new String(bytes, 0, (int) count, StandardCharsets.UTF_8);
        }
    }

    /**
     * Why a number with a fraction or an exponent cannot be stored, or null when it can. It is stored exactly
     * ({@code jsonb} keeps numbers as {@code numeric}), and written back out in full: {@code 1e308} comes back as 309
     * digits, {@code 1e-400} as 402 characters. Refused: numbers beyond a double's range, which most JSON readers
     * cannot hold, and numbers whose full form is longer than {@link JsonNumbers#MAX_CHARS}, which Jackson (the
     * worker's reader among them) refuses to read and PostgreSQL, past 16,383 digits after the point, to store.
     */
    static String numberProblem(BigDecimal value) {
        if (value == null || value.abs().compareTo(JobLimits.LARGEST_NUMBER) > 0) {
            return RANGE;
        }
        var length = JsonNumbers.plainLength(value);
        return length <= JsonNumbers.MAX_CHARS ? null : "takes " + length + " characters written out in full, as it "
                + "is stored and read back; at most " + JsonNumbers.MAX_CHARS + " are allowed (so 1e-990, not 1e-1000)";
    }

    /** The number of a JSON number's text, or null when its exponent is beyond an int's range. */
    static BigDecimal decimal(String text) {
        try {
            return new BigDecimal(text);
        } catch (NumberFormatException | ArithmeticException e) {
            return null;
        }
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
