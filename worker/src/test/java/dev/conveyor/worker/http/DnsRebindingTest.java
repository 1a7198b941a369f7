package dev.conveyor.worker.http;

import static dev.conveyor.worker.http.HttpHandlerTesting.failure;
import static dev.conveyor.worker.http.HttpHandlerTesting.get;
import static dev.conveyor.worker.http.HttpHandlerTesting.run;
import static dev.conveyor.worker.http.HttpHandlerTesting.settings;
import static dev.conveyor.worker.http.StubDns.addresses;
import static dev.conveyor.worker.http.TestServer.send;
import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.handler.JobFailure;
import java.io.UncheckedIOException;
import java.net.InetAddress;
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
 * DNS rebinding: a name answers a permitted address first and 127.0.0.1 after (the test's {@link StubDns}, as an
 * attacker's DNS server with a TTL of 0 would). The handler's client looks a host up only through its
 * {@link AddressGuard}, once per connection it opens, and connects to the addresses that lookup answered and the guard
 * checked: a later, different answer can refuse a job but never redirect one.
 */
class DnsRebindingTest {

    private final StubDns dns = new StubDns();
    // 127.0.0.2 plays the public address: the handler allows it, and refuses the rest of loopback.
    private final HttpJobHandler handler = new HttpJobHandler(settings(1_048_576, List.of(), List.of("127.0.0.2/32")),
            Clock.systemUTC(), dns);
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
    void sendsTheRequestToTheCheckedAddressWithoutASecondLookup() throws Exception {
        dns.answer("rebind-one.test", addresses("127.0.0.2"), addresses("127.0.0.1"));
        checked.route("/", exchange -> send(exchange, 200, "checked"));
        var result = run(handler, get(url("rebind-one.test", "/")));
        assertThat(result.get("body").asString()).isEqualTo("checked");
        assertThat(victimHits).hasValue(0);
        assertThat(dns.lookups("rebind-one.test")).isEqualTo(1);
    }

    @Test
    void concurrentJobsEachConnectWhereTheirOwnCheckedLookupSaid() throws Exception {
        var jobs = 8;
        dns.answer("rebind-many.test", addresses("127.0.0.2"), addresses("127.0.0.1"));
        checked.route("/", exchange -> send(exchange, 200, "checked"));
        var bodies = Collections.synchronizedList(new ArrayList<String>());
        var refusals = Collections.synchronizedList(new ArrayList<String>());
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (var i = 0; i < jobs; i++) {
                threads.submit(() -> {
                    try {
                        bodies.add(run(handler, get(url("rebind-many.test", "/"))).get("body").asString());
                    } catch (JobFailure refused) {
                        refusals.add(refused.getMessage());
                    }
                    return null;
                });
            }
        }
        // The first lookup's connection reached the checked server; every later lookup answered loopback and was
        // refused, whichever job made it; jobs that reused a connection went where it was opened.
        assertThat(bodies).contains("checked").containsOnly("checked");
        assertThat(refusals).hasSize(dns.lookups("rebind-many.test") - 1)
                .allSatisfy(message -> assertThat(message).contains("resolves to 127.0.0.1, a loopback address"));
        assertThat(bodies.size() + refusals.size()).isEqualTo(jobs);
        assertThat(victimHits).hasValue(0);
    }

    @Test
    void aJobThatGivesUpWaitingFailsAsTimedOut() {
        dns.answer("slow.test", addresses("127.0.0.2"), addresses("127.0.0.1"));
        var release = new CountDownLatch(1);
        checked.route("/", exchange -> {
            release.await(10, TimeUnit.SECONDS);
            send(exchange, 200, "late");
        });
        var failure = failure(handler, "{\"url\": \"" + url("slow.test", "/") + "\", \"timeoutMs\": 200}");
        release.countDown();
        assertThat(failure.retryable()).isTrue();
        assertThat(failure.getMessage()).contains("had no complete response within 200 ms");
        assertThat(victimHits).hasValue(0);
    }

    @Test
    void refusesTheNextConnectionOnceTheNameAnswersLoopback() throws Exception {
        dns.answer("rebind-next.test", addresses("127.0.0.2"), addresses("127.0.0.1"));
        // The server closes each connection, so the next job must open (and look up for) one of its own.
        checked.route("/", exchange -> send(exchange, 200, "checked", "Connection", "close"));
        assertThat(run(handler, get(url("rebind-next.test", "/"))).get("body").asString()).isEqualTo("checked");
        var failure = failure(handler, get(url("rebind-next.test", "/")));
        assertThat(failure.retryable()).isFalse();
        assertThat(failure.getMessage()).isEqualTo("refused: host 'rebind-next.test' resolves to 127.0.0.1, a "
                + "loopback address; allow its range in conveyor.worker.http.allowed-addresses");
        assertThat(dns.lookups("rebind-next.test")).isEqualTo(2);
        assertThat(victimHits).hasValue(0);
    }

    @Test
    void aPooledConnectionGoesWhereItWasOpenedWhateverTheNameAnswersNow() throws Exception {
        dns.answer("rebind-pooled.test", addresses("127.0.0.2"), addresses("127.0.0.1"));
        checked.route("/", exchange -> send(exchange, 200, "checked"));
        run(handler, get(url("rebind-pooled.test", "/")));
        assertThat(run(handler, get(url("rebind-pooled.test", "/"))).get("body").asString()).isEqualTo("checked");
        assertThat(dns.lookups("rebind-pooled.test")).isEqualTo(1);
        assertThat(victimHits).hasValue(0);
    }

    @Test
    void refusesANameWithAnyRefusedAddressAmongItsAnswers() {
        dns.answer("mixed.test", addresses("127.0.0.2", "127.0.0.1"));
        var failure = failure(handler, get(url("mixed.test", "/")));
        assertThat(failure.getMessage()).contains("resolves to 127.0.0.1, a loopback address");
        assertThat(victimHits).hasValue(0);
    }

    @Test
    void checksEachRedirectHopsOwnLookup() throws Exception {
        dns.answer("hop.test", addresses("127.0.0.2"), addresses("127.0.0.1"));
        checked.route("/start", exchange -> send(exchange, 302, "", "Location", url("hop.test", "/end")));
        checked.route("/end", exchange -> send(exchange, 200, "checked"));
        var result = run(handler, get(url("127.0.0.2", "/start")));
        assertThat(result.get("body").asString()).isEqualTo("checked");
        assertThat(victimHits).hasValue(0);
        assertThat(dns.lookups("hop.test")).isEqualTo(1);
    }

    @Test
    void aRedirectToARefusedLiteralIsRefused() {
        checked.route("/start", exchange -> send(exchange, 302, "", "Location", "http://127.0.0.1:" + checked.port() + "/"));
        var failure = failure(handler, get(url("127.0.0.2", "/start")));
        assertThat(failure.retryable()).isFalse();
        assertThat(failure.getMessage()).contains("refused: host '127.0.0.1' resolves to 127.0.0.1, a loopback address");
        assertThat(victimHits).hasValue(0);
    }
}
