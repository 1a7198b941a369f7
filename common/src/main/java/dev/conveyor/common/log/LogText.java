package dev.conveyor.common.log;

/**
 * Text that came from outside the process (a Kafka record's key or value, an exception's message about one) made fit
 * for one log line: cut to a length, and with every character that could end the line, start a forged one, repaint
 * a terminal (ANSI escapes) or reorder what a reader sees (bidi controls) written as its Java escape ({@code \n},
 * {@code \u001b}). Everything else, other scripts included, stays as it is; text with nothing to change is returned
 * unchanged, without a copy.
 */
public final class LogText {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private LogText() {
    }

    /**
     * {@code value}'s text ({@code "null"} for null), at most {@code max} of its characters (an escaped one takes up to
     * six in the log), then how many more there were.
     */
    public static String of(Object value, int max) {
        var text = String.valueOf(value);
        var end = Math.min(text.length(), max);
        if (end > 0 && end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))
                && Character.isLowSurrogate(text.charAt(end))) {
            end--;
        }
        StringBuilder escaped = null;
        for (var i = 0; i < end; i++) {
            var c = text.charAt(i);
            var unsafe = unsafe(text, i, c);
            if (unsafe && escaped == null) {
                escaped = new StringBuilder(end + 32).append(text, 0, i);
            }
            if (escaped != null) {
                if (unsafe) {
                    escape(escaped, c);
                } else {
                    escaped.append(c);
                }
            }
        }
        if (escaped == null && end == text.length()) {
            return text;
        }
        var logged = escaped != null ? escaped : new StringBuilder(end + 32).append(text, 0, end);
        if (end < text.length()) {
            logged.append("... (").append(text.length() - end).append(" more characters)");
        }
        return logged.toString();
    }

    private static boolean unsafe(String text, int i, char c) {
        if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
            return true;
        }
        if (c == '\u2028' || c == '\u2029' || c == '\u200e' || c == '\u200f' || (c >= '\u202a' && c <= '\u202e')
                || (c >= '\u2066' && c <= '\u2069')) {
            return true;
        }
        if (Character.isHighSurrogate(c)) {
            return i + 1 >= text.length() || !Character.isLowSurrogate(text.charAt(i + 1));
        }
        return Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(text.charAt(i - 1)));
    }

    private static void escape(StringBuilder out, char c) {
        switch (c) {
            case '\n' -> out.append("\\n");
            case '\r' -> out.append("\\r");
            case '\t' -> out.append("\\t");
            default -> out.append("\\u").append(HEX[c >> 12 & 0xf]).append(HEX[c >> 8 & 0xf]).append(HEX[c >> 4 & 0xf])
                    .append(HEX[c & 0xf]);
        }
    }
}
