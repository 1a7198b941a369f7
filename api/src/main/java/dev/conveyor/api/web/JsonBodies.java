package dev.conveyor.api.web;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;

/**
 * What a request says about how its JSON body is written, checked before the body is read. The api reads bodies as
 * UTF-8 (the contract: bodies are JSON in UTF-8); a body declared in another charset would be read as other text
 * than its client meant, so it is a 415 naming {@code Content-Type}; so is a body sent with a content coding (a gzip
 * body read as JSON was a confusing 400, a plain one labelled gzip was taken), naming {@code Content-Encoding}.
 */
public final class JsonBodies {

    private static final String IDENTITY = "identity";
    /** What the decoder writes at a time when it checks a body: the decoded text itself is not wanted. */
    private static final int DECODED_CHARS = 4096;

    private JsonBodies() {
    }

    /** Refuses a body the api would not read as its client wrote it. */
    public static void requireReadable(HttpServletRequest http, HttpServletResponse response) {
        requireUtf8Charset(Headers.single(http, HttpHeaders.CONTENT_TYPE));
        requireIdentity(http, response);
    }

    /**
     * Refuses a body sent with a content coding (gzip, br, ...): the api reads bodies as they are sent. RFC 9110
     * section 15.5.16 says which codings would do, in {@code Accept-Encoding}.
     */
    private static void requireIdentity(HttpServletRequest http, HttpServletResponse response) {
        var headers = http.getHeaders(HttpHeaders.CONTENT_ENCODING);
        while (headers != null && headers.hasMoreElements()) {
            for (var coding : headers.nextElement().split(",")) {
                var name = coding.strip();
                if (!name.isEmpty() && !name.equalsIgnoreCase(IDENTITY)) {
                    response.setHeader(HttpHeaders.ACCEPT_ENCODING, IDENTITY);
                    throw unsupported(HttpHeaders.CONTENT_ENCODING, "is " + shown(name) + "; the api reads bodies "
                            + "only as they are sent (identity): send the body without a content coding");
                }
            }
        }
    }

    private static void requireUtf8Charset(String contentType) {
        // the common case, application/json without parameters, is UTF-8 and parses nothing
        if (contentType == null || contentType.indexOf(';') < 0) {
            return;
        }
        String charset;
        try {
            // Spring keeps parsed media types in a cache, and has parsed this one to match the mapping
            charset = MediaType.parseMediaType(contentType).getParameter("charset");
        } catch (InvalidMediaTypeException e) {
            throw unsupported(HttpHeaders.CONTENT_TYPE, "is not a media type the api reads; send application/json");
        }
        if (charset != null && !isUtf8(unquoted(charset))) {
            throw unsupported(HttpHeaders.CONTENT_TYPE, "declares the charset " + shown(charset)
                    + "; bodies are read as UTF-8 only (send application/json, or application/json; charset=utf-8)");
        }
    }

    /**
     * Refuses a body that is not UTF-8, naming {@code body}. Jackson reads overlong forms without a word (C0 AF as
     * '/', C0 80 as NUL), so the api would store other text than was sent. A body of ASCII alone (nearly every
     * submission) costs one pass over its bytes; the JDK's decoder, which refuses every malformed form, checks the
     * rest a bufferful at a time.
     */
    public static void requireUtf8(byte[] body) {
        var start = firstNonAscii(body);
        if (start < 0) {
            return;
        }
        var decoder = StandardCharsets.UTF_8.newDecoder(); // reports malformed input, replaces nothing
        var in = ByteBuffer.wrap(body, start, body.length - start);
        var out = CharBuffer.allocate(Math.clamp(body.length - start, 2, DECODED_CHARS));
        while (true) {
            var result = decoder.decode(in, out, true);
            if (result.isError()) {
                throw ApiException.invalid("body", "is not valid UTF-8 (at byte " + in.position() + ")");
            }
            if (result.isUnderflow()) {
                return;
            }
            out.clear();
        }
    }

    private static int firstNonAscii(byte[] bytes) {
        for (var i = 0; i < bytes.length; i++) {
            if (bytes[i] < 0) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isUtf8(String charset) {
        try {
            return charset.equalsIgnoreCase("utf-8") || Charset.forName(charset).equals(StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return false; // an illegal or unknown name
        }
    }

    private static String unquoted(String value) {
        return value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")
                ? value.substring(1, value.length() - 1) : value;
    }

    /** A client's text in a message: cut short, so that a huge header does not make a huge answer. */
    private static String shown(String text) {
        return text.length() > 40 ? text.substring(0, 40) + "..." : text;
    }

    static ApiException unsupported(String header, String message) {
        return new ApiException(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported media type",
                header + ": " + message, List.of(new FieldError(header, message)));
    }
}
