package dev.conveyor.worker.http;

import static dev.conveyor.worker.http.HttpHandlerTesting.allowingLoopback;
import static dev.conveyor.worker.http.HttpHandlerTesting.failure;
import static dev.conveyor.worker.http.HttpHandlerTesting.get;
import static dev.conveyor.worker.http.HttpHandlerTesting.run;
import static dev.conveyor.worker.http.TestServer.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The {@code http} handler against a real local server: statuses, timeouts, Retry-After, the size cap. */
class HttpJobHandlerTest {

    private final TestServer server = new TestServer();
    private final HttpJobHandler handler = allowingLoopback();
    private final CountDownLatch never = new CountDownLatch(1);

    @AfterEach
    void stop() {
        never.countDown();
        handler.close();
        server.close();
    }

    @Nested
    class Statuses {

        @Test
        void answersStatusHeadersAndBodyOf2xx() throws Exception {
            server.route("/hello", exchange -> send(exchange, 200, "héllo", "Content-Type", "text/plain; charset=utf-8",
                    "X-Trace", "abc"));
            var result = run(handler, get(server.url("/hello")));
            assertThat(result.get("status").asInt()).isEqualTo(200);
            assertThat(result.get("body").asString()).isEqualTo("héllo");
            assertThat(result.get("headers").get("x-trace").asString()).isEqualTo("abc");
            assertThat(result.get("headers").get("content-type").asString()).startsWith("text/plain");
        }

        @Test
        void sendsMethodHeadersAndBody() throws Exception {
            server.route("/echo", exchange -> send(exchange, 201, exchange.getRequestMethod() + " "
                    + exchange.getRequestHeaders().getFirst("X-Key") + " "
                    + new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
            var result = run(handler, "{\"method\": \"put\", \"url\": \"" + server.url("/echo")
                    + "\", \"headers\": {\"X-Key\": \"k1\"}, \"body\": \"{\\\"a\\\": 1}\"}");
            assertThat(result.get("status").asInt()).isEqualTo(201);
            assertThat(result.get("body").asString()).isEqualTo("PUT k1 {\"a\": 1}");
        }

        @Test
        void sendsTheBodyInUtf8WithTheContentTypeThePayloadGivesOrNone() throws Exception {
            server.route("/type", exchange -> send(exchange, 200, exchange.getRequestHeaders().getFirst("Content-Type")
                    + " " + new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
            var none = run(handler, "{\"method\": \"POST\", \"url\": \"" + server.url("/type") + "\", \"body\": \"zürich\"}");
            assertThat(none.get("body").asString()).isEqualTo("null zürich");
            var json = run(handler, "{\"method\": \"POST\", \"url\": \"" + server.url("/type")
                    + "\", \"headers\": {\"Content-Type\": \"application/json\"}, \"body\": \"{}\"}");
            assertThat(json.get("body").asString()).isEqualTo("application/json {}");
        }

        @Test
        void namesItselfUnlessThePayloadSetsAUserAgent() throws Exception {
            server.route("/agent", exchange -> send(exchange, 200, exchange.getRequestHeaders().getFirst("User-Agent")));
            assertThat(run(handler, get(server.url("/agent"))).get("body").asString()).isEqualTo("conveyor-worker");
            var own = run(handler, "{\"url\": \"" + server.url("/agent") + "\", \"headers\": {\"User-Agent\": \"mine/1\"}}");
            assertThat(own.get("body").asString()).isEqualTo("mine/1");
        }

        @Test
        void reusesOneKeepAliveConnectionForJobsOneAfterAnother() throws Exception {
            Set<InetSocketAddress> connections = ConcurrentHashMap.newKeySet();
            server.route("/again", exchange -> {
                connections.add(exchange.getRemoteAddress());
                send(exchange, 200, "ok");
            });
            for (var i = 0; i < 20; i++) {
                assertThat(run(handler, get(server.url("/again"))).get("status").asInt()).isEqualTo(200);
            }
            assertThat(connections).hasSize(1);
            assertThat(handler.openConnections()).isEqualTo(1);
        }

        @Test
        void answers3xxThatIsNotARedirectAsAResult() throws Exception {
            server.route("/cached", exchange -> send(exchange, 304, ""));
            assertThat(run(handler, get(server.url("/cached"))).get("status").asInt()).isEqualTo(304);
        }

        @Test
        void failsFinallyOn4xx() {
            server.route("/missing", exchange -> send(exchange, 404, "no such thing"));
            var failure = failure(handler, get(server.url("/missing")));
            assertThat(failure.code()).isEqualTo("HTTP_STATUS");
            assertThat(failure.retryable()).isFalse();
            assertThat(failure.getMessage()).contains("answered 404", "no such thing");
        }

        @Test
        void retries5xxWithoutRetryAfter() {
            server.route("/broken", exchange -> send(exchange, 500, "oops"));
            var failure = failure(handler, get(server.url("/broken")));
            assertThat(failure.code()).isEqualTo("HTTP_STATUS");
            assertThat(failure.retryable()).isTrue();
            assertThat(failure.retryAfter()).isNull();
        }

        @Test
        void retries429AfterTheSecondsTheServerAsks() {
            server.route("/busy", exchange -> send(exchange, 429, "", "Retry-After", "7"));
            var failure = failure(handler, get(server.url("/busy")));
            assertThat(failure.retryable()).isTrue();
            assertThat(failure.retryAfter()).isEqualTo(Duration.ofSeconds(7));
        }

        @Test
        void retries503AfterTheDateTheServerAsks() {
            var clock = Clock.fixed(ZonedDateTime.of(2026, 11, 28, 10, 0, 0, 0, ZoneOffset.UTC).toInstant(),
                    ZoneOffset.UTC);
            var fixed = new HttpJobHandler(HttpHandlerTesting.settings(1000, List.of(), HttpHandlerTesting.LOOPBACK),
                    clock);
            var later = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.of(2026, 11, 28, 10, 2, 0, 0,
                    ZoneOffset.UTC));
            server.route("/down", exchange -> send(exchange, 503, "", "Retry-After", later));
            var failure = failure(fixed, get(server.url("/down")));
            assertThat(failure.retryable()).isTrue();
            assertThat(failure.retryAfter()).isEqualTo(Duration.ofMinutes(2));
            fixed.close();
        }
    }

    @Nested
    class NetworkFailures {

        @Test
        void retriesWhenTheResponseTakesLongerThanTimeoutMs() {
            server.route("/slow", exchange -> {
                never.await(10, TimeUnit.SECONDS);
                send(exchange, 200, "late");
            });
            var started = System.nanoTime();
            var failure = failure(handler, "{\"url\": \"" + server.url("/slow") + "\", \"timeoutMs\": 300}");
            assertThat(failure.retryable()).isTrue();
            assertThat(failure.getMessage()).contains("within 300 ms");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
        }

        @Test
        void aPassedDeadlineFailsAsATimeoutWhicheverWayTheExchangeEnds() {
            // The deadline's cancel and the exchange it aborts race: the failure must still say it timed out (about one
            // in ten of these said "Request aborted" when the check looked at the timer's completion).
            server.route("/slow", exchange -> {
                never.await(10, TimeUnit.SECONDS);
                send(exchange, 200, "late");
            });
            for (var i = 0; i < 100; i++) {
                var failure = failure(handler, "{\"url\": \"" + server.url("/slow") + "\", \"timeoutMs\": 20}");
                assertThat(failure.getMessage()).isEqualTo("GET " + server.url("/slow")
                        + " had no complete response within 20 ms (payload.timeoutMs)");
            }
        }

        @Test
        void endsABodyThatTricklesPastTimeoutMs() {
            // Headers at once, then a byte every 50 ms for ever: no single read waits long, the whole body does.
            server.route("/trickle", exchange -> {
                exchange.sendResponseHeaders(200, 0);
                while (never.getCount() > 0) {
                    exchange.getResponseBody().write('x');
                    exchange.getResponseBody().flush();
                    never.await(50, TimeUnit.MILLISECONDS);
                }
            });
            var started = System.nanoTime();
            var failure = failure(handler, "{\"url\": \"" + server.url("/trickle") + "\", \"timeoutMs\": 400}");
            assertThat(failure.retryable()).isTrue();
            assertThat(failure.getMessage()).contains("had no complete response within 400 ms");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
            await().atMost(Duration.ofSeconds(5)).until(() -> handler.openConnections() == 0);
        }

        @Test
        void retriesWhenNothingListens() {
            var port = server.port();
            server.close();
            var failure = failure(handler, get("http://127.0.0.1:" + port + "/"));
            assertThat(failure.code()).isEqualTo("HANDLER_ERROR");
            assertThat(failure.retryable()).isTrue();
            assertThat(failure.getMessage()).contains("could not connect");
        }

        @Test
        void stopsAtOnceWhenItsThreadIsInterrupted() throws Exception {
            server.route("/slow", exchange -> {
                never.await(10, TimeUnit.SECONDS);
                send(exchange, 200, "late");
            });
            var outcome = new java.util.concurrent.CompletableFuture<Throwable>();
            var thread = Thread.ofVirtual().start(() -> {
                try {
                    run(handler, get(server.url("/slow")));
                    outcome.complete(null);
                } catch (Throwable e) {
                    outcome.complete(e);
                }
            });
            org.awaitility.Awaitility.await().until(() -> thread.getState() == Thread.State.WAITING
                    || thread.getState() == Thread.State.TIMED_WAITING);
            thread.interrupt();
            assertThat(outcome.get(3, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        }
    }

    @Nested
    class SizeCap {

        private final HttpJobHandler capped = new HttpJobHandler(
                HttpHandlerTesting.settings(1000, List.of(), HttpHandlerTesting.LOOPBACK), Clock.systemUTC());

        @AfterEach
        void close() {
            capped.close();
        }

        @Test
        void readsABodyOfExactlyTheCap() throws Exception {
            server.route("/fits", exchange -> send(exchange, 200, "x".repeat(1000)));
            assertThat(run(capped, get(server.url("/fits"))).get("body").asString()).hasSize(1000);
        }

        @Test
        void failsFinallyWithResultTooLargeWhenContentLengthIsOverTheCap() {
            server.route("/big", exchange -> send(exchange, 200, "x".repeat(1001)));
            var failure = failure(capped, get(server.url("/big")));
            assertThat(failure.code()).isEqualTo("RESULT_TOO_LARGE");
            assertThat(failure.retryable()).isFalse();
        }

        @Test
        void retriesABodyThatEndsBeforeItsContentLength() {
            server.route("/short", exchange -> {
                exchange.sendResponseHeaders(200, 500);
                exchange.getResponseBody().write("x".repeat(10).getBytes(StandardCharsets.UTF_8));
                exchange.getResponseBody().flush();
                exchange.close(); // short of its length: the server drops the connection after 10 bytes of 500
            });
            var failure = failure(capped, get(server.url("/short")));
            assertThat(failure.code()).isEqualTo("HANDLER_ERROR");
            assertThat(failure.retryable()).isTrue();
            assertThat(failure.getMessage()).contains("/short failed", "Content-Length");
        }

        @Test
        void failsFinallyWithResultTooLargeWhenAChunkedBodyGrowsOverTheCap() {
            server.route("/stream", exchange -> {
                exchange.sendResponseHeaders(200, 0);
                for (var i = 0; i < 100; i++) {
                    exchange.getResponseBody().write("y".repeat(100).getBytes(StandardCharsets.UTF_8));
                    exchange.getResponseBody().flush();
                }
            });
            var failure = failure(capped, get(server.url("/stream")));
            assertThat(failure.code()).isEqualTo("RESULT_TOO_LARGE");
            assertThat(failure.getMessage()).contains("max-response-bytes");
        }

        @Test
        void stopsReadingAnEndlessBodyAtTheCapAndDropsItsConnection() {
            server.route("/endless", exchange -> {
                exchange.sendResponseHeaders(200, 0);
                var chunk = "z".repeat(4096).getBytes(StandardCharsets.UTF_8);
                while (true) {
                    // Fails once the client has closed the connection, which ends this exchange.
                    exchange.getResponseBody().write(chunk);
                }
            });
            var started = System.nanoTime();
            var failure = failure(capped, get(server.url("/endless")));
            assertThat(failure.code()).isEqualTo("RESULT_TOO_LARGE");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
            // Not returned to the pool: the rest of the body would be the next job's response.
            assertThat(capped.openConnections()).isZero();
        }
    }
}
