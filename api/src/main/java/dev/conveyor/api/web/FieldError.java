package dev.conveyor.api.web;

/** One offending field of a request, as {@code errors[]} of a problem document names it. */
public record FieldError(String field, String message) {

    /** The longest field name shown in full; a client's names may be of any length. */
    public static final int MAX_NAME_CHARS = 64;

    /** An unknown field, its name cut to {@link #MAX_NAME_CHARS} characters (ending in "…") when longer. */
    public static FieldError unknown(String prefix, String name) {
        return new FieldError(prefix + shortened(name), "unknown field");
    }

    /** The text cut to {@link #MAX_NAME_CHARS} characters, ending in "…", when longer. */
    public static String shortened(String text) {
        if (text.length() <= MAX_NAME_CHARS) {
            return text;
        }
        // never half a surrogate pair
        var end = Character.isHighSurrogate(text.charAt(MAX_NAME_CHARS - 1)) ? MAX_NAME_CHARS - 1 : MAX_NAME_CHARS;
        return text.substring(0, end) + "\u2026";
    }
}
