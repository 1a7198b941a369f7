package dev.conveyor.worker.http;

import static dev.conveyor.worker.http.HttpHandlerTesting.allowingLoopback;
import static dev.conveyor.worker.http.HttpHandlerTesting.get;
import static dev.conveyor.worker.http.HttpHandlerTesting.run;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A server that sends more than its response's framing says cannot answer another job's request with the excess:
 * jobs share kept-alive connections to an origin, so bytes left on one would be read as the next job's response.
 */
class HttpExcessBytesTest {

    /** An HTTP/1.1 server on raw sockets, keeping each connection alive: answers each request by its path. */
    private static final class RawServer implements AutoCloseable {

        private static final String HONEST = "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nhonest!";
        private static final String SMUGGLED = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\nX-Smuggled: yes\r\n\r\n"
                + "SMUGGLED";

        private final ServerSocket socket;
        private final Map<String, String> answers;
        final AtomicInteger connections = new AtomicInteger();
        /** Counted down by the test once the job that asked {@code /late} has its answer: then the excess follows. */
        final CountDownLatch sendLate = new CountDownLatch(1);
        /** Counted down once the excess of a {@code /late} answer is written. */
        final CountDownLatch lateWritten = new CountDownLatch(1);

        RawServer() throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            answers = Map.of(
                    "/ok", HONEST,
                    // a Content-Length shorter than what follows: a whole second response after it
                    "/short", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + SMUGGLED,
                    // a body after a 204, which has none
                    "/no-content", "HTTP/1.1 204 No Content\r\n\r\n" + SMUGGLED,
                    // a chunked body, then more
                    "/chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n" + SMUGGLED);
            Thread.ofVirtual().start(this::accept);
        }

        private void accept() {
            while (!socket.isClosed()) {
                try {
                    var client = socket.accept();
                    connections.incrementAndGet();
                    Thread.ofVirtual().start(() -> serve(client));
                } catch (IOException closed) {
                    return;
                }
            }
        }

        private void serve(Socket client) {
            try (client) {
                var in = client.getInputStream();
                var out = client.getOutputStream();
                String path;
                while ((path = nextRequestPath(in)) != null) {
                    if (path.equals("/late")) {
                        // an honest answer, then the excess once the connection lies in the pool
                        out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        if (!sendLate.await(10, TimeUnit.SECONDS)) {
                            return;
                        }
                        out.write(SMUGGLED.getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        lateWritten.countDown();
                    } else {
                        out.write(answers.get(path).getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                    }
                }
            } catch (IOException | InterruptedException hungUp) {
                // the client closed the connection, or the server was closed
            }
        }

        /** The path of the next request's line (its head read to the end; GETs have no body), null at the end. */
        private static String nextRequestPath(InputStream in) throws IOException {
            var head = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) != -1) {
                head.write(b);
                var text = head.toString(StandardCharsets.US_ASCII);
                if (text.endsWith("\r\n\r\n")) {
                    return text.split(" ", 3)[1];
                }
            }
            return null;
        }

        String url(String path) {
            return "http://127.0.0.1:" + socket.getLocalPort() + path;
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

    private final HttpJobHandler handler = allowingLoopback(1); // one connection to the origin: every job shares it

    @AfterEach
    void close() {
        handler.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/short", "/no-content", "/chunked"})
    void theNextJobGetsItsOwnResponse(String hostile) throws Exception {
        try (var server = new RawServer()) {
            var first = run(handler, get(server.url(hostile)));
            var second = run(handler, get(server.url("/ok")));
            var third = run(handler, get(server.url("/ok")));

            // the first job keeps what its response's framing said
            assertThat(first.get("status").asInt()).isEqualTo(hostile.equals("/no-content") ? 204 : 200);
            assertThat(first.get("body").asString()).isEqualTo(hostile.equals("/no-content") ? "" : "ok");
            assertThat(second.get("body").asString()).isEqualTo("honest!");
            assertThat(second.get("headers").has("x-smuggled")).isFalse();
            assertThat(third.get("body").asString()).isEqualTo("honest!");
            assertThat(server.connections).as("the connection that held the excess was closed, not reused")
                    .hasValue(2);
        }
    }

    @Test
    void excessArrivingWhileTheConnectionIsIdleIsNotReadAsAResponse() throws Exception {
        try (var server = new RawServer()) {
            var first = run(handler, get(server.url("/late")));
            server.sendLate.countDown();
            assertThat(server.lateWritten.await(10, TimeUnit.SECONDS)).isTrue();
            var second = run(handler, get(server.url("/ok")));

            assertThat(first.get("body").asString()).isEqualTo("ok");
            assertThat(second.get("body").asString()).isEqualTo("honest!");
            assertThat(server.connections).hasValue(2);
        }
    }

    @Test
    void anHonestServersConnectionIsKeptAlive() throws Exception {
        try (var server = new RawServer()) {
            for (var i = 0; i < 5; i++) {
                assertThat(run(handler, get(server.url("/ok"))).get("body").asString()).isEqualTo("honest!");
            }
            assertThat(server.connections).as("one connection for all five").hasValue(1);
        }
    }
}
