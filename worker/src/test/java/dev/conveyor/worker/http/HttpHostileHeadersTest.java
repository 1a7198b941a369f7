package dev.conveyor.worker.http;

import static dev.conveyor.worker.http.HttpHandlerTesting.allowingLoopback;
import static dev.conveyor.worker.http.HttpHandlerTesting.failure;
import static dev.conveyor.worker.http.HttpHandlerTesting.get;
import static dev.conveyor.worker.http.HttpHandlerTesting.run;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The {@code http} handler against a server that answers with headers without end: the job fails alone, at once and
 * for good, having read a bounded amount, and the worker's heap never holds more than that.
 */
class HttpHostileHeadersTest {

    /** Writes {@code head}, then {@code endless} over and over until the client hangs up; counts what it wrote. */
    private static final class RawServer implements AutoCloseable {

        private final ServerSocket socket;
        private final AtomicLong written = new AtomicLong();

        RawServer(String head, String endless) throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread.ofVirtual().start(() -> {
                while (!socket.isClosed()) {
                    try (Socket client = socket.accept()) {
                        client.getInputStream().read(new byte[8192]); // the request, whatever it is
                        OutputStream out = client.getOutputStream();
                        out.write(head.getBytes(StandardCharsets.US_ASCII));
                        var chunk = endless.getBytes(StandardCharsets.US_ASCII);
                        if (chunk.length == 0) {
                            client.getInputStream().transferTo(OutputStream.nullOutputStream()); // until hung up
                            continue;
                        }
                        while (true) {
                            out.write(chunk);
                            written.addAndGet(chunk.length);
                        }
                    } catch (IOException hungUp) {
                        // the client closed the connection (or this server was closed)
                    }
                }
            });
        }

        String url() {
            return "http://127.0.0.1:" + socket.getLocalPort() + "/";
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private final HttpJobHandler handler = allowingLoopback();

    @AfterEach
    void close() {
        handler.close();
    }

    @Test
    void failsForGoodOnHeadersWithoutEnd() throws IOException {
        try (var server = new RawServer("HTTP/1.1 200 OK\r\n", "X-Filler: " + "f".repeat(1000) + "\r\n")) {
            var started = System.nanoTime();
            var failure = failure(handler, get(server.url()));

            assertThat(failure.code()).isEqualTo("RESULT_TOO_LARGE");
            assertThat(failure.retryable()).isFalse();
            assertThat(failure.getMessage()).contains("response head").contains("fewer than 100 header lines")
                    .contains(server.url());
            // the handler gave up long before the job's 10 s, having read little more than the limit
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
            assertThat(handler.openConnections()).isZero();
        }
    }

    /** A server that begins a line of its answer's head ({@code head}) and never ends it. */
    @ParameterizedTest
    @ValueSource(strings = {"HTTP/1.1 200 OK\r\nX-Endless: ", "HTTP/1.1 200 "})
    void failsForGoodOnALineWithoutEnd(String head) throws IOException {
        try (var server = new RawServer(head, "e".repeat(4096))) {
            var failure = failure(handler, get(server.url()));

            assertThat(failure.code()).isEqualTo("RESULT_TOO_LARGE");
            assertThat(failure.retryable()).isFalse();
            assertThat(handler.openConnections()).isZero();
        }
    }

    /**
     * A status line that is not one: the job fails at once quoting it (retryable, as any broken exchange), not after
     * its whole timeoutMs, as when the client skipped it as garbage and waited for a status line that never came.
     */
    @ParameterizedTest
    @ValueSource(strings = {"HTTP/1.1 2000000000000000000000 OK", "HTTP/1.1 -1 OK", "garbage"})
    void failsAtOnceOnAStatusLineThatIsNotOne(String statusLine) throws IOException {
        try (var server = new RawServer(statusLine + "\r\nContent-Length: 2\r\n\r\nok", "")) {
            var started = System.nanoTime();
            var failure = failure(handler, get(server.url()));

            assertThat(failure.getMessage()).contains(server.url() + " failed: ").contains("<" + statusLine + ">")
                    .doesNotContain("no complete response");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
        }
    }

    @Test
    void readsHeadersOfAnOrdinaryLargeSize() throws Exception {
        // as many header lines as the worker reads (99), one of them 8,000 characters long (a large
        // Content-Security-Policy or Set-Cookie)
        var head = new StringBuilder("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n");
        for (var i = 0; i < HttpExchange.MAX_HEADERS - 3; i++) {
            head.append("X-Filler-").append(i).append(": ").append("f".repeat(1000)).append("\r\n");
        }
        head.append("X-Large: ").append("l".repeat(8_000)).append("\r\n\r\nok");
        try (var server = new RawServer(head.toString(), "")) {
            var result = run(handler, get(server.url()));

            assertThat(result.get("status").asInt()).isEqualTo(200);
            assertThat(result.get("headers").get("x-large").asString()).hasSize(8_000);
        }
    }
}
