package dev.conveyor.worker.http;

import static dev.conveyor.worker.http.HttpHandlerTesting.allowingLoopback;
import static dev.conveyor.worker.http.HttpHandlerTesting.failure;
import static dev.conveyor.worker.http.HttpHandlerTesting.get;
import static dev.conveyor.worker.http.HttpHandlerTesting.run;
import static dev.conveyor.worker.http.TestServer.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** {@code conveyor.worker.http.max-connections-per-host}: jobs to one host share a bounded set of connections. */
class HostLimitsTest {

    private static final int LIMIT = 4;

    private final TestServer server = new TestServer();
    private final TestServer other = new TestServer();
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void stop() {
        release.countDown();
        server.close();
        other.close();
    }

    @Nested
    class Handler {

        private final HttpJobHandler handler = allowingLoopback(LIMIT);

        @AfterEach
        void close() {
            handler.close();
        }

        @Test
        void keepsRequestsToOneHostWithinTheLimitOnReusedConnections() throws Exception {
            var current = new AtomicInteger();
            var most = new AtomicInteger();
            Set<InetSocketAddress> connections = ConcurrentHashMap.newKeySet();
            // The first LIMIT requests are held until all of them are in at once: the limit is reached, and the
            // requests behind them (which must wait for a permit) then show it is never passed.
            var full = new CountDownLatch(LIMIT);
            server.route("/slow", exchange -> {
                most.accumulateAndGet(current.incrementAndGet(), Math::max);
                connections.add(exchange.getRemoteAddress());
                try {
                    full.countDown();
                    full.await(30, TimeUnit.SECONDS);
                    send(exchange, 200, "ok");
                } finally {
                    current.decrementAndGet();
                }
            });

            var results = new ArrayList<Future<JsonNode>>();
            try (var jobs = Executors.newVirtualThreadPerTaskExecutor()) {
                for (var i = 0; i < 4 * LIMIT; i++) {
                    results.add(jobs.submit(() -> run(handler, get(server.url("/slow")))));
                }
            }

            for (var result : results) {
                assertThat(result.get().get("status").asInt()).isEqualTo(200);
            }
            assertThat(full.getCount()).isZero();
            assertThat(most.get()).isEqualTo(LIMIT);
            assertThat(connections).hasSizeBetween(1, LIMIT);
        }

        @Test
        void failsAJobWhoseTimeoutPassesWhileItWaitsForAConnection() throws Exception {
            server.route("/held", exchange -> {
                release.await(30, TimeUnit.SECONDS);
                send(exchange, 200, "ok");
            });
            var holders = new ArrayList<Future<JsonNode>>();
            try (var jobs = Executors.newVirtualThreadPerTaskExecutor()) {
                for (var i = 0; i < LIMIT; i++) {
                    holders.add(jobs.submit(() -> run(handler, get(server.url("/held")))));
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> handlerOrigins(handler) == 1);

                var failure = failure(handler, "{\"url\": \"" + server.url("/held") + "\", \"timeoutMs\": 300}");

                assertThat(failure.retryable()).isTrue();
                assertThat(failure.getMessage()).contains("within 300 ms", "one of the 4 connections to http://127.0.0.1:",
                        "conveyor.worker.http.max-connections-per-host");
                release.countDown();
            }
            for (var holder : holders) {
                assertThat(holder.get().get("status").asInt()).isEqualTo(200);
            }
        }

        @Test
        void letsOtherHostsGoWhileOneIsAtItsLimit() throws Exception {
            server.route("/held", exchange -> {
                release.await(30, TimeUnit.SECONDS);
                send(exchange, 200, "ok");
            });
            other.route("/fast", exchange -> send(exchange, 200, "fast"));
            try (var jobs = Executors.newVirtualThreadPerTaskExecutor()) {
                for (var i = 0; i < LIMIT; i++) {
                    jobs.submit(() -> run(handler, get(server.url("/held"))));
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> handlerOrigins(handler) == 1);

                assertThat(run(handler, get(other.url("/fast"))).get("body").asString()).isEqualTo("fast");
                release.countDown();
            }
        }

        private static int handlerOrigins(HttpJobHandler handler) {
            return handler.hostLimits().origins();
        }
    }

    @Nested
    class Permits {

        private final HostLimits limits = new HostLimits(1);
        private final URI host = URI.create("http://example.org/a");

        @Test
        void aWaitingRequestIsInterruptedByCancellationAndLeavesNothingBehind() throws Exception {
            var held = limits.acquire(host, System.nanoTime() + Duration.ofSeconds(10).toNanos());
            var waiter = Thread.ofVirtual().start(() -> {
                try {
                    limits.acquire(URI.create("HTTP://EXAMPLE.org:80/b"), System.nanoTime() + Duration.ofSeconds(60).toNanos());
                } catch (InterruptedException expected) {
                    Thread.currentThread().interrupt();
                } catch (TimeoutException e) {
                    throw new AssertionError(e);
                }
            });
            await().atMost(Duration.ofSeconds(5)).until(() -> waiter.getState() == Thread.State.WAITING
                    || waiter.getState() == Thread.State.TIMED_WAITING);

            waiter.interrupt();
            waiter.join(Duration.ofSeconds(5));

            assertThat(waiter.isAlive()).isFalse();
            assertThat(limits.origins()).isEqualTo(1);
            held.close();
            held.close();
            assertThat(limits.origins()).isZero();
            limits.acquire(host, System.nanoTime()).close();
        }

        @Test
        void aRequestPastItsDeadlineDoesNotWait() throws Exception {
            try (var held = limits.acquire(host, System.nanoTime() + Duration.ofSeconds(10).toNanos())) {
                var started = System.nanoTime();
                assertThatThrownBy(() -> limits.acquire(host, System.nanoTime() + Duration.ofMillis(50).toNanos()))
                        .isInstanceOf(TimeoutException.class).hasMessageContaining("http://example.org:80");
                assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
                assertThat(limits.origins()).isEqualTo(1);
            }
            assertThat(limits.origins()).isZero();
        }

        @Test
        void keysHostsByOrigin() {
            assertThat(HostLimits.key(URI.create("HTTPS://Api.Example.org/x?y"))).isEqualTo("https://api.example.org:443");
            assertThat(HostLimits.key(URI.create("http://api.example.org:8080/"))).isEqualTo("http://api.example.org:8080");
        }
    }
}
