package dev.conveyor.worker.http;

import static dev.conveyor.worker.http.HttpHandlerTesting.failure;
import static dev.conveyor.worker.http.HttpHandlerTesting.get;
import static dev.conveyor.worker.http.HttpHandlerTesting.run;
import static dev.conveyor.worker.http.HttpHandlerTesting.settings;
import static dev.conveyor.worker.http.StubDns.addresses;
import static dev.conveyor.worker.http.TestServer.send;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * DNS rebinding through the JVM's own resolver: a name answers a permitted address first and 127.0.0.1 after. The
 * test JVM caches no answers ({@code sun.net.inetaddr.ttl=0}), as for a TTL-0 name once the JVM's cache has expired,
 * so every lookup the HTTP client makes reaches the resolver.
 */
class DnsRebindingTest {

    // 127.0.0.2 plays the public address: the handler allows it, and refuses the rest of loopback.
    private final HttpJobHandler handler = new HttpJobHandler(settings(1_048_576, List.of(), List.of("127.0.0.2/32")),
            Clock.systemUTC());
    private final AtomicInteger victimHits = new AtomicInteger();
    private TestServer checked;
    private TestServer victim;

    @BeforeEach
    void start() {
        for (var tries = 0; victim == null; tries++) {
            checked = new TestServer(InetAddress.ofLiteral("127.0.0.2"), 0);
            try {
                victim = new TestServer(InetAddress.ofLiteral("127.0.0.1"), checked.port());
            } catch (UncheckedIOException portTaken) {
                checked.close();
                if (tries == 5) {
                    throw portTaken;
                }
            }
        }
        victim.route("/", exchange -> {
            victimHits.incrementAndGet();
            send(exchange, 200, "loopback");
        });
    }

    @AfterEach
    void stop() {
        handler.close();
        checked.close();
        victim.close();
    }

    private String url(String host, String path) {
        return "http://" + host + ":" + checked.port() + path;
    }

    @Test
    void theJvmRunsTheGuardedResolverAndTheWorkerJarNamesIt() throws IOException {
        assertThat(GuardedResolver.installed()).isNotNull();
        var named = new ArrayList<String>();
        for (var file : Collections.list(getClass().getClassLoader()
                .getResources("META-INF/services/java.net.spi.InetAddressResolverProvider"))) {
            try (InputStream in = file.openStream()) {
                named.add(new String(in.readAllBytes(), StandardCharsets.UTF_8).strip());
            }
        }
        assertThat(named).contains(GuardedResolverProvider.class.getName(), StubDns.class.getName());
    }

    @Test
    void aSecondLookupOutsideTheHandlerReallyAnswersLoopback() throws Exception {
        StubDns.answer("control.test", addresses("127.0.0.2"), addresses("127.0.0.1"));
        assertThat(InetAddress.getByName("control.test")).isEqualTo(InetAddress.ofLiteral("127.0.0.2"));
        assertThat(InetAddress.getByName("control.test")).isEqualTo(InetAddress.ofLiteral("127.0.0.1"));
    }

    @Test
    void sendsTheRequestToTheCheckedAddressWithoutASecondLookup() throws Exception {
        StubDns.answer("rebind-one.test", addresses("127.0.0.2"), addresses("127.0.0.1"));
        checked.route("/", exchange -> send(exchange, 200, "checked"));
        var result = run(handler, get(url("rebind-one.test", "/")));
        assertThat(result.get("body").asString()).isEqualTo("checked");
        assertThat(victimHits).hasValue(0);
        assertThat(StubDns.lookups("rebind-one.test")).isEqualTo(1);
    }

    @Test
    void concurrentJobsToOneHostShareTheCheckedAddress() throws Exception {
        var jobs = 8;
        StubDns.answer("rebind-many.test", addresses("127.0.0.2"), addresses("127.0.0.1"));
        var arrived = new CountDownLatch(jobs);
        checked.route("/", exchange -> {
            arrived.countDown();
            // Held until every job is in flight, so that all of them overlap.
            send(exchange, 200, arrived.await(10, TimeUnit.SECONDS) ? "checked" : "alone");
        });
        var bodies = Collections.synchronizedList(new ArrayList<String>());
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (var i = 0; i < jobs; i++) {
                threads.submit(() -> bodies.add(run(handler, get(url("rebind-many.test", "/"))).get("body").asString()));
            }
        }
        assertThat(bodies).hasSize(jobs).containsOnly("checked");
        assertThat(victimHits).hasValue(0);
        assertThat(StubDns.lookups("rebind-many.test")).isEqualTo(1);
        assertThat(GuardedResolver.installed().pinned()).isZero();
    }

    @Test
    void letsThePinGoWhenAJobGivesUpWaiting() {
        StubDns.answer("slow.test", addresses("127.0.0.2"), addresses("127.0.0.1"));
        var release = new CountDownLatch(1);
        checked.route("/", exchange -> {
            release.await(10, TimeUnit.SECONDS);
            send(exchange, 200, "late");
        });
        var failure = failure(handler, "{\"url\": \"" + url("slow.test", "/") + "\", \"timeoutMs\": 200}");
        release.countDown();
        assertThat(failure.retryable()).isTrue();
        assertThat(failure.getMessage()).contains("had no complete response within 200 ms");
        assertThat(GuardedResolver.installed().pinned()).isZero();
        assertThat(victimHits).hasValue(0);
    }

    @Test
    void refusesTheNextJobOnceTheNameAnswersLoopback() throws Exception {
        StubDns.answer("rebind-next.test", addresses("127.0.0.2"), addresses("127.0.0.1"));
        checked.route("/", exchange -> send(exchange, 200, "checked"));
        run(handler, get(url("rebind-next.test", "/")));
        var failure = failure(handler, get(url("rebind-next.test", "/")));
        assertThat(failure.retryable()).isFalse();
        assertThat(failure.getMessage()).contains("host 'rebind-next.test' resolves to 127.0.0.1, a loopback address");
        assertThat(victimHits).hasValue(0);
    }

    @Test
    void refusesANameWithAnyRefusedAddressAmongItsAnswers() {
        StubDns.answer("mixed.test", addresses("127.0.0.2", "127.0.0.1"));
        var failure = failure(handler, get(url("mixed.test", "/")));
        assertThat(failure.getMessage()).contains("resolves to 127.0.0.1, a loopback address");
        assertThat(victimHits).hasValue(0);
    }

    @Test
    void pinsEachRedirectHopToItsCheckedAddress() throws Exception {
        StubDns.answer("hop.test", addresses("127.0.0.2"), addresses("127.0.0.1"));
        checked.route("/start", exchange -> send(exchange, 302, "", "Location", url("hop.test", "/end")));
        checked.route("/end", exchange -> send(exchange, 200, "checked"));
        var result = run(handler, get(url("127.0.0.2", "/start")));
        assertThat(result.get("body").asString()).isEqualTo("checked");
        assertThat(victimHits).hasValue(0);
        assertThat(StubDns.lookups("hop.test")).isEqualTo(1);
    }
}
