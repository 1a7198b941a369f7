package dev.conveyor.worker.http;

import static dev.conveyor.worker.http.HttpHandlerTesting.allowingLoopback;
import static dev.conveyor.worker.http.HttpHandlerTesting.failure;
import static dev.conveyor.worker.http.HttpHandlerTesting.get;
import static dev.conveyor.worker.http.HttpHandlerTesting.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Response bodies as they come: text is answered as text; a body that is not text in its charset, or holds NUL
 * characters (which no JSON store keeps), is answered base64-encoded and says so.
 */
class HttpBodiesTest {

    private static final byte[] PNG_START = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0x0d};

    private final TestServer server = new TestServer();
    private final HttpJobHandler handler = allowingLoopback();

    @AfterEach
    void stop() {
        handler.close();
        server.close();
    }

    private static void sendBytes(HttpExchange exchange, int status, byte[] body, String contentType)
            throws IOException {
        if (contentType != null) {
            exchange.getResponseHeaders().add("Content-Type", contentType);
        }
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
    }

    @Test
    void answersABinaryBodyAsBase64() throws Exception {
        server.route("/logo.png", exchange -> sendBytes(exchange, 200, PNG_START, "image/png"));
        var result = run(handler, get(server.url("/logo.png")));
        assertThat(result.get("bodyEncoding").asString()).isEqualTo("base64");
        assertThat(Base64.getDecoder().decode(result.get("body").asString())).isEqualTo(PNG_START);
    }

    @Test
    void answersTextHoldingNulAsBase64() throws Exception {
        var body = "before\u0000after".getBytes(StandardCharsets.UTF_8);
        server.route("/nul", exchange -> sendBytes(exchange, 200, body, "text/plain; charset=utf-8"));
        var result = run(handler, get(server.url("/nul")));
        assertThat(result.get("bodyEncoding").asString()).isEqualTo("base64");
        assertThat(Base64.getDecoder().decode(result.get("body").asString())).isEqualTo(body);
    }

    @Test
    void answersInvalidUtf8AsBase64() throws Exception {
        var body = new byte[] {'o', 'k', ' ', (byte) 0xC3, '(', ' ', (byte) 0xED, (byte) 0xA0, (byte) 0x80};
        server.route("/broken", exchange -> sendBytes(exchange, 200, body, "application/json"));
        var result = run(handler, get(server.url("/broken")));
        assertThat(result.get("bodyEncoding").asString()).isEqualTo("base64");
        assertThat(Base64.getDecoder().decode(result.get("body").asString())).isEqualTo(body);
    }

    @Test
    void answersABodyDecodingToHalfASurrogatePairAsBase64() throws Exception {
        // valid UTF-32 by the JDK's decoder, which yields U+D800 alone and then 'A': no JSON store keeps that
        var body = new byte[] {0, 0, (byte) 0xD8, 0, 0, 0, 0, 'A'};
        server.route("/half", exchange -> sendBytes(exchange, 200, body, "text/plain; charset=UTF-32"));
        var result = run(handler, get(server.url("/half")));
        assertThat(result.get("bodyEncoding").asString()).isEqualTo("base64");
        assertThat(Base64.getDecoder().decode(result.get("body").asString())).isEqualTo(body);
    }

    @Test
    void describesAFailingStatusWithHalfASurrogatePairAsNotText() {
        var body = new byte[] {0, 0, (byte) 0xDC, 0, 0, 0, 0, 'A'};
        server.route("/half", exchange -> sendBytes(exchange, 503, body, "text/plain; charset=UTF-32"));
        var failure = failure(handler, get(server.url("/half")));
        assertThat(failure.getMessage()).contains("answered 503 with a body of 8 bytes that is not text");
    }

    @Test
    void answersTextAsTextWithoutAnEncodingField() throws Exception {
        server.route("/text", exchange -> sendBytes(exchange, 200, "grüß dich 👋\tnew\nline".getBytes(
                StandardCharsets.UTF_8), null));
        var result = run(handler, get(server.url("/text")));
        assertThat(result.get("body").asString()).isEqualTo("grüß dich 👋\tnew\nline");
        assertThat(result.has("bodyEncoding")).isFalse();
    }

    @Test
    void readsTextInTheCharsetItNames() throws Exception {
        server.route("/latin", exchange -> sendBytes(exchange, 200, "café".getBytes(StandardCharsets.ISO_8859_1),
                "text/plain; charset=ISO-8859-1"));
        assertThat(run(handler, get(server.url("/latin"))).get("body").asString()).isEqualTo("café");
    }

    @Test
    void carriesLargeHeadsAndBodiesBothWays() throws Exception {
        // A request body and an answer's chunked body larger than a pooled connection's buffers (32 KiB), and an
        // answer's head of 16 KB, pass whole, twice over one kept-alive connection.
        var sent = "0123456789abcdef".repeat(6_250);
        var longValue = "v".repeat(6_000);
        server.route("/echo", exchange -> {
            var received = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("X-Long", longValue);
            for (var i = 0; i < 20; i++) {
                exchange.getResponseHeaders().add("X-Filler-" + i, "f".repeat(500));
            }
            exchange.getResponseHeaders().add("Content-Type", "text/plain; charset=utf-8");
            exchange.sendResponseHeaders(200, 0);
            try (var body = exchange.getResponseBody()) {
                body.write(received.getBytes(StandardCharsets.UTF_8));
                body.write(received.toUpperCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8));
            }
        });
        var payload = "{\"method\": \"POST\", \"url\": \"" + server.url("/echo") + "\", \"body\": \"" + sent + "\"}";
        for (var round = 0; round < 2; round++) {
            var result = run(handler, payload);
            assertThat(result.get("status").asInt()).isEqualTo(200);
            assertThat(result.get("headers").get("x-long").asString()).isEqualTo(longValue);
            assertThat(result.get("headers").get("x-filler-19").asString()).hasSize(500);
            assertThat(result.get("body").asString()).isEqualTo(sent + sent.toUpperCase(Locale.ROOT));
        }
    }

    @Test
    void describesABinaryErrorBodyWithoutQuotingIt() {
        server.route("/down", exchange -> sendBytes(exchange, 503, PNG_START, "image/png"));
        var failure = failure(handler, get(server.url("/down")));
        assertThat(failure.code()).isEqualTo("HTTP_STATUS");
        assertThat(failure.getMessage()).contains("answered 503", PNG_START.length + " bytes", "not text")
                .doesNotContain("\u0000");
    }
}
