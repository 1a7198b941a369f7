package dev.conveyor.api.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

/**
 * One generated request and what the api must answer to it.
 *
 * @param head    the request line and header lines, each ending in CRLF (or in whatever the case injects)
 * @param body    the bytes after the blank line
 * @param expect  what the answer must be
 */
record Case(String head, byte[] body, Expect expect) {

    /** What the answer must be. */
    sealed interface Expect permits Refused, Accepted {
    }

    /**
     * A problem document with one of {@code statuses} (any 4xx when empty); unless {@code fields} is empty, one of
     * its {@code errors[].field} starts with one of them.
     */
    record Refused(Set<Integer> statuses, List<String> fields) implements Expect {

        @Override
        public String toString() {
            return "Refused" + statuses + (fields.isEmpty() ? "" : " naming " + printable(String.join(" or ", fields)));
        }
    }

    /** A 2xx: the input is valid, however odd. */
    record Accepted() implements Expect {
    }

    static Refused refused(String field, Integer... statuses) {
        return new Refused(Set.of(statuses), field == null ? List.of() : List.of(field));
    }

    /** A request with a well-formed frame around {@code body} (null: none, no Content-Length). */
    static Case request(String method, String target, List<String> headerLines, byte[] body, Expect expect) {
        var head = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\nHost: localhost\r\n");
        headerLines.forEach(line -> head.append(line).append("\r\n"));
        if (body != null) {
            head.append("Content-Length: ").append(body.length).append("\r\n");
        }
        return new Case(head.toString(), body == null ? new byte[0] : body, expect);
    }

    static Case postJson(String target, String body, Expect expect, String... headerLines) {
        var lines = new java.util.ArrayList<String>();
        lines.add("Content-Type: application/json");
        lines.addAll(List.of(headerLines));
        return request("POST", target, lines, body.getBytes(StandardCharsets.UTF_8), expect);
    }

    /** Short enough for a failure report: the head and the start of the body. */
    @Override
    public String toString() {
        var shownHead = head.length() > 600 ? head.substring(0, 600) + "...(" + head.length() + " chars)" : head;
        var text = new String(body, 0, Math.min(body.length, 600), StandardCharsets.UTF_8);
        return expect + "\n" + printable(shownHead.replace("\r", "\\r").replace("\n", "\\n\n")) + "\n"
                + printable(text) + (body.length > 600 ? "...(" + body.length + " bytes)" : "");
    }

    /** Control characters (but newlines) and surrogates as escapes: some would cut a test report short. */
    static String printable(String text) {
        var out = new StringBuilder(text.length());
        text.chars().forEach(c -> {
            if ((c < 0x20 && c != '\n') || c == 0x7f || Character.isSurrogate((char) c)) {
                out.append(String.format("\\u%04x", c));
            } else {
                out.append((char) c);
            }
        });
        return out.toString();
    }
}
