package dev.conveyor.api.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

/**
 * The refusals that never reach a controller are problem documents too, and a body too large is refused before it
 * is read whole. The body limit is 1 MiB here, so that a 100 MB body is 100 times over it.
 */
@ApiTest
@TestPropertySource(properties = "conveyor.api.max-batch-body-bytes=1048576")
class RefusalsTest {

    private static final int LIMIT = 1_048_576;
    private static final long HUNDRED_MB = 100L * 1024 * 1024;

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
    }

    @LocalServerPort
    int port;

    RawHttp http;

    @BeforeEach
    void client() {
        http = new RawHttp(port, System.getProperty("conveyor.fuzz.authorization"));
    }

    @Nested
    class ByTomcat {

        static Stream<Arguments> requests() {
            var post = "POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n";
            var body = "{\"type\":\"Bad\"}";
            return Stream.of(
                    Arguments.of("a CR inside a header", post + "Idempotency-Key: a\rb\r\nContent-Length: 14\r\n", body, 400),
                    Arguments.of("a header over 8 KiB", post + "X-Long: " + "a".repeat(10_000) + "\r\n", "", 400),
                    Arguments.of("a header without a colon", post + "nocolon\r\n", "", 400),
                    Arguments.of("a NUL in the path", "GET /v1/jobs/%00 HTTP/1.1\r\nHost: localhost\r\n", "", 400),
                    Arguments.of("an encoded slash in the path", "GET /v1/jobs/a%2Fb HTTP/1.1\r\nHost: localhost\r\n", "", 400),
                    Arguments.of("a broken escape in the path", "GET /v1/jobs/%zz HTTP/1.1\r\nHost: localhost\r\n", "", 400),
                    Arguments.of("a request line over 8 KiB", "GET /v1/jobs/" + "f".repeat(10_000)
                            + " HTTP/1.1\r\nHost: localhost\r\n", "", 400),
                    Arguments.of("no Host", "GET /v1/queues HTTP/1.1\r\n", "", 400),
                    Arguments.of("a negative Content-Length", post + "Content-Length: -5\r\n", body, 400),
                    Arguments.of("two Content-Lengths", post + "Content-Length: 14\r\nContent-Length: 15\r\n", body, 400),
                    Arguments.of("a body shorter than its Content-Length", post + "Content-Length: 100\r\n", body, 400),
                    Arguments.of("a chunk size that is not hex", post + "Transfer-Encoding: chunked\r\n", "zz\r\n" + body,
                            400),
                    Arguments.of("an unknown transfer coding", post + "Transfer-Encoding: x\r\n", body, 501),
                    Arguments.of("an unknown expectation", post + "Expect: 100-continue-x\r\nContent-Length: 14\r\n",
                            body, 417),
                    Arguments.of("HTTP/9.9", "GET /v1/queues HTTP/9.9\r\nHost: localhost\r\n", "", 505),
                    Arguments.of("TRACE", "TRACE /v1/jobs HTTP/1.1\r\nHost: localhost\r\n", "", 405));
        }

        @ParameterizedTest(name = "{0}: {3}")
        @MethodSource("requests")
        void answersAProblemDocument(String what, String head, String body, int status) {
            var answer = http.raw(head, body.getBytes(StandardCharsets.UTF_8));

            assertThat(answer.status()).as("%s", answer).isEqualTo(status);
            Answers.isProblem(what, answer);
            assertThat(answer.text()).doesNotContain("<html", "Tomcat");
        }

        @Test
        void answersAProblemWhateverTheAcceptHeader() {
            for (var accept : List.of("text/html", "application/xml", ";;;q=abc/", "image/png, */*;q=0")) {
                var answer = http.get("/v1/jobs/not-a-uuid", "Accept: " + accept);

                assertThat(answer.status()).as("Accept: %s", accept).isEqualTo(400);
                Answers.isProblem(accept, answer);
            }
        }
    }

    @Nested
    class TooLarge {

        @Test
        void aBodyAnnouncedTooLargeIsRefusedBeforeItIsSent() throws IOException {
            for (var path : List.of("/v1/jobs", "/v1/jobs/batch", "/v1/jobs/019374b2-8c1e-7a7d-9f57-1c4b0b3e2a10/cancel")) {
                try (var socket = new Socket("localhost", port)) {
                    socket.setSoTimeout(5_000);
                    // the head only, with Expect: 100-continue: a client that waits for the go-ahead sends nothing
                    socket.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                            + "application/json\r\nContent-Length: " + HUNDRED_MB + "\r\nExpect: 100-continue\r\n"
                            + authorization() + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    var answer = new String(socket.getInputStream().readNBytes(2_000), StandardCharsets.UTF_8);

                    assertThat(answer).as(path).startsWith("HTTP/1.1 413 ").doesNotContain("100 Continue")
                            .contains("application/problem+json").contains("\"status\":413")
                            .contains("larger than " + LIMIT + " bytes");
                }
            }
        }

        @Test
        void aChunkedBodyIsRefusedOnceOverTheLimitWithoutBeingReadWhole() throws Exception {
            for (var path : List.of("/v1/jobs", "/v1/jobs/batch")) {
                var sent = new AtomicLong();
                var started = System.nanoTime();
                try (var socket = new Socket("localhost", port)) {
                    socket.setSoTimeout(15_000);
                    var out = socket.getOutputStream();
                    out.write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                            + "Transfer-Encoding: chunked\r\n" + authorization() + "\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    var writer = CompletableFuture.runAsync(() -> {
                        var chunk = ("10000\r\n" + " ".repeat(0x10000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
                        try {
                            while (sent.get() < HUNDRED_MB) {
                                out.write(chunk);
                                sent.addAndGet(0x10000);
                            }
                            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                        } catch (IOException e) {
                            // the api answered and closed the connection: the rest is not wanted
                        }
                    });
                    var answer = new String(socket.getInputStream().readNBytes(2_000), StandardCharsets.UTF_8);
                    var sentWhenAnswered = sent.get();
                    socket.close();
                    writer.join();

                    System.out.printf("%s: a chunked 100 MB body refused after %d bytes were sent, in %d ms%n", path,
                            sentWhenAnswered, Duration.ofNanos(System.nanoTime() - started).toMillis());
                    assertThat(answer).as(path).startsWith("HTTP/1.1 413 ").contains("application/problem+json");
                    assertThat(sentWhenAnswered).as("bytes sent before the answer to %s", path)
                            .isLessThan(HUNDRED_MB / 4);
                    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
                }
            }
        }

        @Test
        void aBodyJustOverTheLimitIsA413OnEveryRouteThatTakesOne() {
            var body = "{\"jobs\":[{\"type\":\"echo\",\"payload\":{\"s\":\"" + "x".repeat(LIMIT) + "\"}}]}";
            for (var path : List.of("/v1/jobs", "/v1/jobs/batch")) {
                var answer = http.postJson(path, body);

                assertThat(answer.status()).as("%s: %s", path, answer).isEqualTo(413);
                Answers.isProblem(path, answer);
            }
        }
    }

    private static String authorization() {
        var value = System.getProperty("conveyor.fuzz.authorization");
        return value == null ? "" : "Authorization: " + value + "\r\n";
    }
}
