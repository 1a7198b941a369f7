package dev.conveyor.api.fuzz;

import dev.conveyor.common.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * HTTP/1.1 written by hand on a socket, one connection per request: it sends what {@code java.net.http} refuses to
 * (CR or LF inside a header, a Content-Length that lies, bytes that are not UTF-8) and reads whatever comes back.
 * Every request it builds carries {@code Authorization} when one is given, so the same inputs can run against an
 * api with keys configured.
 */
final class RawHttp {

    /** Longest the api may take to answer one hostile request; longer counts as a hang. */
    static final Duration ANSWER_WITHIN = Duration.ofSeconds(15);
    private static final int MAX_ANSWER_BYTES = 1 << 20;

    private final int port;
    private final String authorization;

    /** @param authorization the value of an {@code Authorization} header to send, or null for none */
    RawHttp(int port, String authorization) {
        this.port = port;
        this.authorization = authorization;
    }

    /** An answer: status, headers by lower-case name, body. */
    record Answer(int status, Map<String, List<String>> headers, byte[] body, Duration took) {

        String header(String name) {
            var values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null ? null : values.getFirst();
        }

        String contentType() {
            return header("content-type");
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        JsonNode json() {
            return Json.tree(text());
        }

        @Override
        public String toString() {
            var text = text();
            return status + " " + contentType() + " " + (text.length() > 300 ? text.substring(0, 300) + "..." : text);
        }
    }

    /** A request with a well-formed frame: {@code Host}, {@code Content-Length} and {@code Connection} added. */
    Answer send(String method, String target, List<String> headerLines, byte[] body) {
        var head = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\n");
        head.append("Host: localhost\r\n");
        for (var line : headerLines) {
            head.append(line).append("\r\n");
        }
        if (body != null) {
            head.append("Content-Length: ").append(body.length).append("\r\n");
        }
        return raw(head, body == null ? new byte[0] : body);
    }

    Answer send(String method, String target, List<String> headerLines, String body) {
        return send(method, target, headerLines, body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }

    /** A POST of JSON. */
    Answer postJson(String target, byte[] body, String... extraHeaderLines) {
        var lines = new ArrayList<String>();
        lines.add("Content-Type: application/json");
        lines.addAll(List.of(extraHeaderLines));
        return send("POST", target, lines, body);
    }

    Answer postJson(String target, String body, String... extraHeaderLines) {
        return postJson(target, body.getBytes(StandardCharsets.UTF_8), extraHeaderLines);
    }

    Answer get(String target, String... headerLines) {
        return send("GET", target, List.of(headerLines), (byte[]) null);
    }

    /**
     * A request whose head is given whole, up to the end of its header lines (without the blank line); adds
     * {@code Authorization} and {@code Connection: close}, then the blank line and {@code body} as they are.
     * Header bytes are written as ISO-8859-1, so any char below 256 goes out as that byte.
     */
    Answer raw(CharSequence headWithoutBlankLine, byte[] body) {
        var head = new StringBuilder(headWithoutBlankLine);
        if (authorization != null) {
            head.append("Authorization: ").append(authorization).append("\r\n");
        }
        head.append("Connection: close\r\n\r\n");
        var started = System.nanoTime();
        try (var socket = new Socket("localhost", port)) {
            socket.setSoTimeout((int) ANSWER_WITHIN.toMillis());
            var out = socket.getOutputStream();
            out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            try {
                out.write(body);
                out.flush();
                // a body shorter than its Content-Length must end somewhere for the server to answer
                socket.shutdownOutput();
            } catch (IOException e) {
                // the server answered and closed before reading the whole body: read that answer
            }
            var answer = read(socket.getInputStream());
            return new Answer(answer.status(), answer.headers(), answer.body(),
                    Duration.ofNanos(System.nanoTime() - started));
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no answer within " + ANSWER_WITHIN + " to: " + abbreviate(head), e);
        } catch (IOException e) {
            throw new UncheckedIOException("exchange failed for: " + abbreviate(head), e);
        }
    }

    private static String abbreviate(CharSequence head) {
        var text = head.toString();
        return text.length() > 400 ? text.substring(0, 400) + "..." : text;
    }

    private static Answer read(InputStream in) throws IOException {
        var statusLine = line(in);
        if (statusLine == null || !statusLine.startsWith("HTTP/1.1 ")) {
            throw new IOException("not an HTTP answer: " + statusLine);
        }
        var status = Integer.parseInt(statusLine.substring(9, 12));
        var headers = new LinkedHashMap<String, List<String>>();
        for (var line = line(in); line != null && !line.isEmpty(); line = line(in)) {
            var colon = line.indexOf(':');
            headers.computeIfAbsent(line.substring(0, colon).strip().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(line.substring(colon + 1).strip());
        }
        byte[] body;
        var length = headers.get("content-length");
        if (headers.getOrDefault("transfer-encoding", List.of()).contains("chunked")) {
            body = chunked(in);
        } else if (length != null) {
            body = in.readNBytes(Integer.parseInt(length.getFirst()));
        } else {
            body = in.readNBytes(MAX_ANSWER_BYTES);
        }
        return new Answer(status, headers, body, Duration.ZERO);
    }

    private static byte[] chunked(InputStream in) throws IOException {
        var body = new ByteArrayOutputStream();
        while (true) {
            var sizeLine = line(in);
            if (sizeLine == null) {
                return body.toByteArray();
            }
            var semicolon = sizeLine.indexOf(';');
            var size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).strip(), 16);
            if (size == 0) {
                for (var trailer = line(in); trailer != null && !trailer.isEmpty(); trailer = line(in)) {
                    // trailers are not looked at
                }
                return body.toByteArray();
            }
            body.write(in.readNBytes(size));
            line(in);
        }
    }

    private static String line(InputStream in) throws IOException {
        var line = new ByteArrayOutputStream();
        for (var b = in.read(); b != -1; b = in.read()) {
            if (b == '\n') {
                var bytes = line.toByteArray();
                var end = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
    }
}
