package dev.conveyor.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The client against a server (or a proxy in front of one) that answers what no api would: bodies without end, JSON
 * of another shape, redirects, odd problem documents. Each call ends, promptly, with a {@link ConveyorException}.
 */
class HostileServerTest {

    private static final UUID ID = UUID.fromString("01a22222-29f0-77f3-b860-1cad7579bffe");
    private static final String JOB = "{\"id\":\"" + ID + "\",\"type\":\"echo\",\"queue\":\"default\","
            + "\"status\":\"RUNNING\",\"payload\":{},\"attempts\":1,\"maxAttempts\":3,\"timeoutSeconds\":300,"
            + "\"createdAt\":\"2026-11-28T10:15:30.123Z\",\"runAt\":\"2026-11-28T10:15:30.123Z\","
            + "\"updatedAt\":\"2026-11-28T10:15:30.123Z\"}";

    private final StubApi api = new StubApi();

    @AfterEach
    void stop() {
        api.close();
    }

    private ConveyorClient client() {
        return ConveyorClient.builder(api.uri())
                .retryPolicy(new RetryPolicy(3, Duration.ofMillis(10), Duration.ofMillis(50))).build();
    }

    @Nested
    class AnswersOfAnotherShape {

        @Test
        void aJobAnswerThatIsNoJobIsAConveyorExceptionNotANullOrAJacksonError() {
            var client = client();
            for (var body : List.of("", "null", "[]", "5", "{}", "{\"id\":\"not-a-uuid\",\"status\":\"RUNNING\"}",
                    JOB.replace("RUNNING", "PAUSED"), JOB.replace("\"status\":\"RUNNING\",", ""),
                    JOB.replace("\"attempts\":1", "\"attempts\":null"))) {
                api.then(200, body);
                assertThatThrownBy(() -> client.get(ID)).as(body).isExactlyInstanceOf(ConveyorException.class)
                        .hasMessageContaining("GET /v1/jobs/" + ID);
            }
        }

        @Test
        void aBatchAnswerWithoutOneJobPerRequestIsAConveyorException() {
            var client = client();
            var two = List.of(JobRequest.of("echo"), JobRequest.of("echo"));
            for (var body : List.of("{}", "{\"jobs\":5}", "{\"jobs\":[]}", "{\"jobs\":[" + JOB + "]}")) {
                api.then(202, body);
                assertThatThrownBy(() -> client.submitAll(two)).as(body).isExactlyInstanceOf(ConveyorException.class)
                        .hasMessageContaining("POST /v1/jobs/batch");
            }
        }

        @Test
        void aPageAnswerWithoutJobsIsAConveyorException() {
            var client = client();
            for (var body : List.of("{}", "{\"jobs\":{}}", "{\"jobs\":[5]}", "{\"jobs\":[],\"next\":5}",
                    "{\"jobs\":[],\"next\":\"c2\"}")) {
                api.then(200, body);
                assertThatThrownBy(() -> client.page(JobQuery.all(), null)).as(body)
                        .isExactlyInstanceOf(ConveyorException.class).hasMessageContaining("GET /v1/jobs");
            }
        }

        @Test
        void aRedirectIsReportedWithItsStatusNotReadAsAnEmptyJob() {
            api.then(302, "", "Location", "https://elsewhere.example/login").then(204, "");
            var client = client();
            assertThatThrownBy(() -> client.get(ID)).isInstanceOfSatisfying(ProblemException.class,
                    e -> assertThat(e.status()).isEqualTo(302));
            assertThatThrownBy(() -> client.get(ID)).isExactlyInstanceOf(ConveyorException.class)
                    .hasMessageContaining("204");
        }

        @Test
        void aProblemDocumentWithOddFieldsStillGivesTheAnswersStatus() {
            var client = client();
            for (var body : List.of("{\"title\":\"x\",\"errors\":[null]}", "{\"title\":\"x\",\"status\":\"bad\"}",
                    "{\"title\":\"x\",\"errors\":{\"a\":1}}", "{\"title\":{\"a\":1},\"detail\":[1]}",
                    "{\"title\":\"x\",\"errors\":[{\"field\":[1]}]}")) {
                api.then(400, body);
                assertThatThrownBy(() -> client.get(ID)).as(body).isInstanceOfSatisfying(ProblemException.class,
                        e -> assertThat(e.status()).isEqualTo(400));
            }
        }
    }

    @Nested
    class EndlessAnswers {

        private final HttpServer server;

        EndlessAnswers() {
            try {
                server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            server.start();
        }

        /** Opened as the server stops: ends the answers that would otherwise go on for ever. */
        private final CountDownLatch stopped = new CountDownLatch(1);

        @AfterEach
        void stopServer() {
            stopped.countDown();
            server.stop(0);
        }

        private ConveyorClient client(Duration timeout) {
            return ConveyorClient.builder(URI.create("http://127.0.0.1:" + server.getAddress().getPort()))
                    .retryPolicy(RetryPolicy.NONE).requestTimeout(timeout).build();
        }

        /** Answers 200 and then a body that never ends: {@code chunk} every {@code every}. */
        private void endless(byte[] chunk, Duration every, AtomicInteger requests) {
            server.createContext("/", exchange -> {
                requests.incrementAndGet();
                stream(exchange, chunk, every, stopped);
            });
        }

        private static void stream(HttpExchange exchange, byte[] chunk, Duration every, CountDownLatch stopped)
                throws IOException {
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, 0);
            try (var out = exchange.getResponseBody()) {
                out.write('[');
                // a chunk every so often, until the client hangs up or the server stops
                while (!stopped.await(every.toNanos(), TimeUnit.NANOSECONDS)) {
                    out.write(chunk);
                    out.flush();
                }
            } catch (IOException | InterruptedException gone) {
                // the client hung up
            }
        }

        @Test
        void aBodyThatTricklesForEverEndsTheCallAtTheRequestTimeout() {
            endless(" ".getBytes(), Duration.ofMillis(100), new AtomicInteger());
            try (var client = client(Duration.ofSeconds(1))) {
                var call = CompletableFuture.supplyAsync(() -> client.get(ID));
                assertThat(call).failsWithin(Duration.ofSeconds(10)).withThrowableOfType(ExecutionException.class)
                        .havingCause().isExactlyInstanceOf(ConveyorException.class);
            }
        }

        @Test
        void aBodyLargerThanTheLimitIsRefusedWithoutReadingItAllNorSendingAgain() {
            var requests = new AtomicInteger();
            endless(" ".repeat(64 * 1024).getBytes(), Duration.ZERO, requests);
            try (var client = ConveyorClient.builder(URI.create("http://127.0.0.1:" + server.getAddress().getPort()))
                    .maxResponseBytes(1 << 20).build()) {
                var call = CompletableFuture.supplyAsync(() -> client.get(ID));
                assertThat(call).failsWithin(Duration.ofSeconds(10)).withThrowableOfType(ExecutionException.class)
                        .havingCause().isExactlyInstanceOf(ConveyorException.class)
                        .withMessageContaining("more than 1048576 bytes").withMessageContaining("maxResponseBytes");
            }
            assertThat(requests).hasValue(1);
        }

        /** Takes requests and never answers them. */
        private void silent(AtomicInteger requests) {
            server.createContext("/", exchange -> {
                requests.incrementAndGet();
                try {
                    stopped.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    exchange.close();
                }
            });
        }

        @Test
        void awaitSendsNoTryAfterItsDeadlineToAServerThatNeverAnswers() {
            var requests = new AtomicInteger();
            silent(requests);
            try (var client = ConveyorClient.builder(URI.create("http://127.0.0.1:" + server.getAddress().getPort()))
                    .requestTimeout(Duration.ofSeconds(1)).build()) {
                var call = CompletableFuture.supplyAsync(() -> client.await(ID, Duration.ofMillis(500)));
                // one try: 0.5 s of wait and 1 s of request timeout; before, five tries took 8 s and more
                assertThat(call).failsWithin(Duration.ofSeconds(4)).withThrowableOfType(ExecutionException.class)
                        .havingCause().isExactlyInstanceOf(ConveyorException.class);
            }
            assertThat(requests).hasValue(1);
        }

        @Test
        void closeEndsALongPollInFlightAtOnceAndTheCallIsNotSentAgain() {
            var requests = new AtomicInteger();
            silent(requests);
            var client = ConveyorClient.builder(URI.create("http://127.0.0.1:" + server.getAddress().getPort()))
                    .build();
            var call = CompletableFuture.supplyAsync(() -> client.await(ID, Duration.ofMinutes(1)));
            org.awaitility.Awaitility.await().until(() -> requests.get() == 1);
            assertThat(CompletableFuture.runAsync(client::close)).succeedsWithin(Duration.ofSeconds(5));
            assertThat(call).failsWithin(Duration.ofSeconds(5)).withThrowableOfType(ExecutionException.class)
                    .havingCause().isExactlyInstanceOf(ConveyorException.class);
            assertThat(requests).hasValue(1);
        }

        @Test
        void anInterruptedCallStopsPromptlyAndKeepsItsInterrupt() {
            endless(" ".getBytes(), Duration.ofMillis(100), new AtomicInteger());
            try (var client = client(Duration.ofMinutes(5))) {
                var interrupted = new CompletableFuture<Boolean>();
                var caller = Thread.ofPlatform().start(() -> {
                    try {
                        client.get(ID);
                        interrupted.complete(false);
                    } catch (ConveyorException e) {
                        interrupted.complete(Thread.currentThread().isInterrupted());
                    }
                });
                org.awaitility.Awaitility.await().until(() -> caller.getState() == Thread.State.WAITING
                        || caller.getState() == Thread.State.TIMED_WAITING);
                caller.interrupt();
                assertThat(interrupted).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(true);
            }
        }
    }

    @Nested
    class OddWaits {

        @Test
        void aRetryAfterTooLargeForALongIsTooLongToWaitNotRetriedAtOnce() {
            api.then(503, "{\"title\":\"Unavailable\",\"status\":503,\"detail\":\"later\"}", "Retry-After",
                    "99999999999999999999").then(200, JOB);
            assertThatThrownBy(() -> client().get(ID)).isInstanceOfSatisfying(ProblemException.class,
                    e -> assertThat(e.status()).isEqualTo(503));
            assertThat(api.received()).hasSize(1);
        }

        /** A Retry-After within maxDelay but past await's deadline is not waited out: the caller gave less time. */
        @Test
        void awaitDoesNotWaitOutARetryAfterThatEndsPastItsDeadline() {
            api.then(503, "{\"title\":\"Unavailable\",\"status\":503,\"detail\":\"later\"}", "Retry-After", "5")
                    .then(200, JOB.replace("RUNNING", "SUCCEEDED"));
            try (var client = ConveyorClient.builder(api.uri()).build()) { // maxDelay 10 s
                var call = CompletableFuture.supplyAsync(() -> client.await(ID, Duration.ofSeconds(1)));
                // before, it slept the 5 s and asked again with the wait of a deadline long gone
                assertThat(call).failsWithin(Duration.ofSeconds(3)).withThrowableOfType(ExecutionException.class)
                        .havingCause().isInstanceOfSatisfying(ProblemException.class,
                                e -> assertThat(e.status()).isEqualTo(503));
            }
            assertThat(api.received()).hasSize(1);
        }

        /** A long-poll sent again after a 503 asks for what is left of await's time, not for all of it once more. */
        @Test
        void aLongPollSentAgainAsksOnlyForTheTimeLeft() {
            api.then(503, "{\"title\":\"Unavailable\",\"status\":503,\"detail\":\"later\"}", "Retry-After", "1")
                    .then(200, JOB.replace("RUNNING", "SUCCEEDED"));
            try (var client = ConveyorClient.builder(api.uri()).build()) {
                assertThat(client.await(ID, Duration.ofSeconds(3)).status()).isEqualTo(JobStatus.SUCCEEDED);
            }
            assertThat(api.received()).extracting(StubApi.Received::uri).satisfiesExactly(
                    first -> assertThat(wait(first)).isCloseTo(3.0, within(0.2)),
                    // before, 3.000 again: with pauses between tries, a long-poll could end past the deadline
                    again -> assertThat(wait(again)).isLessThan(2.2));
        }

        private static double wait(String uri) {
            return Double.parseDouble(uri.replaceFirst(".*[?&]wait=([0-9.]+).*", "$1"));
        }

        @Test
        void awaitDoesNotHammerAServerThatIgnoresWait() {
            for (var i = 0; i < 1000; i++) {
                api.then(200, JOB);
            }
            var job = client().await(ID, Duration.ofSeconds(2));
            assertThat(job.status()).isEqualTo(JobStatus.RUNNING);
            assertThat(api.received()).hasSizeBetween(2, 4);
        }

        @Test
        void awaitTakesATimeoutOfCenturies() {
            api.then(200, JOB.replace("RUNNING", "SUCCEEDED"));
            assertThat(client().await(ID, Duration.ofSeconds(Long.MAX_VALUE)).status())
                    .isEqualTo(JobStatus.SUCCEEDED);
        }

        @Test
        void aPageThatAnswersTheCursorItWasAskedWithEndsTheListingNotLoopsForEver() {
            for (var i = 0; i < 200; i++) {
                api.then(200, "{\"jobs\":[" + JOB + "],\"next\":\"c1\"}");
            }
            var listing = CompletableFuture.supplyAsync(() -> client().list(JobQuery.all()).toList());
            assertThat(listing).failsWithin(Duration.ofSeconds(5)).withThrowableOfType(ExecutionException.class)
                    .havingCause().isExactlyInstanceOf(ConveyorException.class).withMessageContaining("c1");
            assertThat(api.received()).hasSize(2);
        }

        @Test
        void aBackoffPastWhatADurationHoldsIsMaxDelay() {
            var policy = new RetryPolicy(64, Duration.ofDays(365L * 1_000_000), Duration.ofSeconds(Long.MAX_VALUE));
            assertThat(policy.backoff(2)).isGreaterThanOrEqualTo(Duration.ofDays(365L * 500_000));
            assertThat(policy.backoff(64)).isPositive();
        }

        @Test
        void aRequestTimeoutThatNoRequestCouldKeepIsRefusedByTheBuilder() {
            var builder = ConveyorClient.builder(api.uri());
            for (var bad : List.of(Duration.ZERO, Duration.ofSeconds(-1), Duration.ofDays(3650))) {
                assertThatThrownBy(() -> builder.requestTimeout(bad)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("requestTimeout");
            }
        }
    }
}
