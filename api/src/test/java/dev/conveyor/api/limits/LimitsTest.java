package dev.conveyor.api.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.test.HttpJson;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** Submission rate per key, open long-polls per key and waiting jobs per tenant: 429 with Retry-After. */
@ApiTest
class LimitsTest {

    private static final List<String[]> KEYS = List.of(
            new String[] {"rated", "rated", "cvk_limits-rated-0123456789abcdef0123456789abcdef"},
            new String[] {"poller", "poller", "cvk_limits-poller-0123456789abcdef0123456789abcdef"},
            new String[] {"big-1", "big", "cvk_limits-big1-0123456789abcdef0123456789abcdef"},
            new String[] {"big-2", "big", "cvk_limits-big2-0123456789abcdef0123456789abcdef"},
            new String[] {"full-1", "full", "cvk_limits-full1-0123456789abcdef0123456789abcdef"},
            new String[] {"full-2", "full", "cvk_limits-full2-0123456789abcdef0123456789abcdef"},
            new String[] {"retrier-1", "retrier", "cvk_limits-retrier1-0123456789abcdef0123456789abcdef"},
            new String[] {"retrier-2", "retrier", "cvk_limits-retrier2-0123456789abcdef0123456789abcdef"},
            new String[] {"lister", "lister", "cvk_limits-lister-0123456789abcdef0123456789abcdef"},
            new String[] {"bulk-1", "bulk", "cvk_limits-bulk1-0123456789abcdef0123456789abcdef"},
            new String[] {"bulk-2", "bulk", "cvk_limits-bulk2-0123456789abcdef0123456789abcdef"},
            new String[] {"neighbour", "neighbour", "cvk_limits-neighbour-0123456789abcdef0123456789abcdef"});

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
        registry.add("conveyor.api.limits.submit-rate", () -> "0.01");
        registry.add("conveyor.api.limits.submit-burst", () -> "1000");
        registry.add("conveyor.api.limits.long-polls-per-key", () -> "2");
        registry.add("conveyor.api.limits.queued-per-tenant", () -> "1005");
        registry.add("conveyor.api.limits.lists-per-key", () -> "2");
        // 64 MiB for bodies: 48 for those over 64 KiB, of which a tenant's may hold half (tenant-body-share, 50)
        registry.add("conveyor.api.body-memory-bytes", () -> String.valueOf(64L << 20));
        for (var i = 0; i < KEYS.size(); i++) {
            var key = KEYS.get(i);
            ApiTests.apiKey(registry, i, key[0], key[1], key[2], "jobs:write", "jobs:read");
        }
    }

    @LocalServerPort
    int port;
    @Autowired
    MeterRegistry meters;

    @Autowired
    JdbcClient jdbc;
    @Autowired
    DataSource dataSource;

    private HttpJson as(String id) {
        var key = KEYS.stream().filter(k -> k[0].equals(id)).findFirst().orElseThrow();
        return ApiTests.client(port).withKey(key[2]);
    }

    private static String batch(int n) {
        var items = new ArrayList<String>();
        for (var i = 0; i < n; i++) {
            items.add("{\"type\": \"echo\"}");
        }
        return "{\"jobs\": [" + String.join(",", items) + "]}";
    }

    private long jobs(String tenant) {
        return jdbc.sql("SELECT count(*) FROM jobs WHERE tenant = :tenant").param("tenant", tenant)
                .query(Long.class).single();
    }

    private static void assertTooMany(HttpJson.Response response, String type) {
        assertThat(response.status()).as(response.text()).isEqualTo(429);
        assertThat(response.contentType()).isEqualTo("application/problem+json");
        assertThat(response.json().get("type").asString()).endsWith("/" + type);
        assertThat(Long.parseLong(response.header("Retry-After"))).isPositive();
    }

    @Test
    void aKeyOverItsSubmissionRateGets429AndNothingIsStored() {
        var rated = as("rated");
        assertThat(rated.post("/v1/jobs/batch", batch(1000)).status()).isEqualTo(202);

        var single = rated.post("/v1/jobs", "{\"type\": \"echo\"}");
        assertTooMany(single, "rate-limited");
        // 0.01 jobs a second: the next job fits in about 100 s
        assertThat(Long.parseLong(single.header("Retry-After"))).isBetween(90L, 101L);
        assertTooMany(rated.post("/v1/jobs/batch", batch(2)), "rate-limited");
        assertThat(jobs("rated")).isEqualTo(1000);
        // other keys have buckets of their own
        assertThat(as("poller").post("/v1/jobs", "{\"type\": \"echo\"}").status()).isEqualTo(202);
    }

    @Test
    void aKeyMayHoldOnlySoManyLongPollsOpen() {
        var poller = as("poller");
        var id = poller.post("/v1/jobs", "{\"type\": \"echo\"}").json().get("id").asString();
        var open = List.of(CompletableFuture.supplyAsync(() -> poller.get("/v1/jobs/" + id + "?wait=60")),
                CompletableFuture.supplyAsync(() -> poller.get("/v1/jobs/" + id + "?wait=60")));

        // once both are open, a third is refused; a plain read is not a long-poll and still answers
        await().atMost(Duration.ofSeconds(30)).until(() -> poller.get("/v1/jobs/" + id + "?wait=0.2").status() == 429);
        await().atMost(Duration.ofSeconds(10)).until(() -> openLongPolls() == 2);
        assertTooMany(poller.get("/v1/jobs/" + id + "?wait=5"), "too-many-long-polls");
        assertThat(poller.get("/v1/jobs/" + id).status()).isEqualTo(200);
        assertThat(as("rated").get("/v1/jobs?limit=1").status()).isEqualTo(200);

        // the job ends: both long-polls answer, and their places are free again
        assertThat(poller.post("/v1/jobs/" + id + "/cancel", "").status()).isEqualTo(202);
        open.forEach(future -> assertThat(future.join().json().get("status").asString()).isEqualTo("CANCELLED"));
        await().atMost(Duration.ofSeconds(10)).until(() -> openLongPolls() == 0);
        assertThat(poller.get("/v1/jobs/" + id + "?wait=1").status()).isEqualTo(200);
    }

    /**
     * Listings held up by a lock on the jobs table (as a slow filter would hold them): past the key's two, a 429 at
     * once, without a connection; another key's listing is not refused, and each answers once the lock is gone.
     */
    @Test
    void aKeyMayHaveOnlySoManyListingsUnderWay() throws Exception {
        var lister = as("lister");
        List<CompletableFuture<HttpJson.Response>> held;
        CompletableFuture<HttpJson.Response> other;
        try (var connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try (var statement = connection.createStatement()) {
                statement.execute("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE");
            }
            held = List.of(CompletableFuture.supplyAsync(() -> lister.get("/v1/jobs?limit=1")),
                    CompletableFuture.supplyAsync(() -> lister.get("/v1/jobs?limit=2")));
            await().atMost(Duration.ofSeconds(30)).until(() -> listingsUnderWay() == 2);
            assertTooMany(lister.get("/v1/jobs?limit=3"), "too-many-listings");
            other = CompletableFuture.supplyAsync(() -> as("rated").get("/v1/jobs?limit=1"));
            await().atMost(Duration.ofSeconds(30)).until(() -> listingsUnderWay() == 3);
            connection.rollback();
        }
        held.forEach(listing -> assertThat(listing.join().status()).isEqualTo(200));
        assertThat(other.join().status()).isEqualTo(200);
        assertThat(lister.get("/v1/jobs?limit=1").status()).isEqualTo(200);
    }

    /**
     * A tenant's large bodies sent slowly hold at most its share of the memory for large bodies: past it, its next
     * large body is a 429 at once, before it is read, while another tenant's is still taken. Before the share, one
     * tenant could take all of it, and every other tenant's large submissions waited 5 s for a 503.
     */
    @Test
    void aTenantsSlowLargeBodiesTakeOnlyItsShareOfTheBodyMemory() throws Exception {
        try (var held = slowBatch("bulk-1", 10_000_000)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> bodyMemoryReserved() >= 20_000_000);
            try (var more = slowBatch("bulk-2", 3_000_000)) {
                var answer = statusLine(more);
                assertThat(answer).startsWith("HTTP/1.1 429");
            }
            try (var neighbour = slowBatch("neighbour", 10_000_000)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> bodyMemoryReserved() >= 40_000_000);
            }
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> bodyMemoryReserved() == 0);
        assertThat(jobs("bulk")).isZero();
        assertThat(jobs("neighbour")).isZero();
        // once its bodies are answered, the tenant's share is free again
        var small = "{\"type\": \"echo\", \"payload\": {\"pad\": \"" + "x".repeat(100_000) + "\"}}";
        assertThat(as("bulk-2").post("/v1/jobs/batch", "{\"jobs\": [" + small + "]}").status()).isEqualTo(202);
    }

    /** A batch of {@code announced} bytes from the key, over a raw socket: its head and first bytes only. */
    private Socket slowBatch(String keyId, int announced) throws IOException {
        var key = KEYS.stream().filter(k -> k[0].equals(keyId)).findFirst().orElseThrow();
        var socket = new Socket("localhost", port);
        socket.setSoTimeout((int) Duration.ofSeconds(30).toMillis());
        var head = "POST /v1/jobs/batch HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Authorization: Bearer " + key[2] + "\r\nContent-Length: " + announced + "\r\n\r\n{\"jobs\": [";
        socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        return socket;
    }

    private static String statusLine(Socket socket) throws IOException {
        var line = new StringBuilder();
        var in = socket.getInputStream();
        for (int b = in.read(); b >= 0 && b != '\r'; b = in.read()) {
            line.append((char) b);
        }
        return line.toString();
    }

    private double bodyMemoryReserved() {
        return meters.get("conveyor.api.body.memory.reserved").gauge().value();
    }

    private double listingsUnderWay() {
        return meters.get("conveyor.listings.under.way").gauge().value();
    }

    @Test
    void aTenantWithTooManyJobsWaitingGets429OnEveryKey() {
        assertThat(as("big-1").post("/v1/jobs/batch", batch(1000)).status()).isEqualTo(202);

        assertTooMany(as("big-2").post("/v1/jobs/batch", batch(10)), "tenant-backlog-full");
        assertThat(as("big-2").post("/v1/jobs/batch", batch(5)).status()).isEqualTo(202);
        assertTooMany(as("big-2").post("/v1/jobs", "{\"type\": \"echo\"}"), "tenant-backlog-full");
        assertThat(jobs("big")).isEqualTo(1005);
    }

    @Test
    void aTenantAtItsLimitStillGetsItsEarlierJobsForTheirIdempotencyKeys() {
        assertThat(as("full-1").post("/v1/jobs/batch", batch(1000)).status()).isEqualTo(202);
        var full = as("full-2");
        var keyed = new ArrayList<String>();
        for (var i = 0; i < 5; i++) {
            keyed.add("{\"type\": \"echo\", \"idempotencyKey\": \"order-" + i + "\"}");
        }
        var stored = full.post("/v1/jobs/batch", "{\"jobs\": [" + String.join(",", keyed) + "]}");
        assertThat(stored.status()).as(stored.text()).isEqualTo(202);
        var ids = stored.json().get("jobs").valueStream().map(job -> job.get("id").asString()).toList();

        // at the limit: sending a submission again (its answer lost) stores nothing, and answers the earlier job
        var replay = full.post("/v1/jobs", keyed.getFirst());
        assertThat(replay.status()).as(replay.text()).isEqualTo(200);
        assertThat(replay.header("Idempotent-Replayed")).isEqualTo("true");
        assertThat(replay.json().get("id").asString()).isEqualTo(ids.getFirst());
        var batchReplay = full.post("/v1/jobs/batch", "{\"jobs\": [" + keyed.get(3) + "," + keyed.get(1) + "]}");
        assertThat(batchReplay.status()).as(batchReplay.text()).isEqualTo(202);
        assertThat(batchReplay.json().get("jobs").valueStream().map(job -> job.get("id").asString()))
                .containsExactly(ids.get(3), ids.get(1));
        // a key used for a different request is a conflict, as ever
        assertThat(full.post("/v1/jobs", "{\"type\": \"sleep\", \"idempotencyKey\": \"order-2\"}").status())
                .isEqualTo(409);

        // what would store a job is still refused: a new key, or a batch with one new item among replays
        assertTooMany(full.post("/v1/jobs", "{\"type\": \"echo\", \"idempotencyKey\": \"order-new\"}"),
                "tenant-backlog-full");
        assertTooMany(full.post("/v1/jobs/batch", "{\"jobs\": [" + keyed.get(4) + ", {\"type\": \"echo\"}]}"),
                "tenant-backlog-full");
        assertThat(jobs("full")).isEqualTo(1005);
    }

    @Test
    void aRetryThatWouldTakeTheTenantPastItsLimitGets429AndTheJobStaysAsItWas() {
        assertThat(as("retrier-1").post("/v1/jobs/batch", batch(1000)).status()).isEqualTo(202);
        var retrier = as("retrier-2");
        var stored = retrier.post("/v1/jobs/batch", batch(5));
        assertThat(stored.status()).as(stored.text()).isEqualTo(202);
        var first = stored.json().get("jobs").get(0).get("id").asString();
        var second = stored.json().get("jobs").get(1).get("id").asString();
        assertThat(retrier.post("/v1/jobs/" + first + "/cancel", "").status()).isEqualTo(202);
        // 1,004 waiting once the cancel is counted (within a second): one more fits, and then nothing
        await().atMost(Duration.ofSeconds(10)).until(() -> retrier.post("/v1/jobs", "{\"type\": \"echo\"}")
                .status() == 202);

        // cancelling and retrying would otherwise let a tenant have as many jobs waiting as it likes
        assertTooMany(retrier.post("/v1/jobs/" + first + "/retry", ""), "tenant-backlog-full");
        var job = retrier.get("/v1/jobs/" + first).json();
        assertThat(job.get("status").asString()).isEqualTo("CANCELLED");
        assertThat(job.get("maxAttempts").asInt()).isEqualTo(3);
        // 404 and 409 come first, as ever
        assertThat(retrier.post("/v1/jobs/" + second + "/retry", "").status()).isEqualTo(409);
        assertThat(as("poller").post("/v1/jobs/" + first + "/retry", "").status()).isEqualTo(404);
        assertThat(jobs("retrier")).isEqualTo(1006);

        // room again (another job cancelled, and counted): the retry is taken
        assertThat(retrier.post("/v1/jobs/" + second + "/cancel", "").status()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(10)).until(() -> retrier.post("/v1/jobs/" + first + "/retry", "")
                .status() == 202);
        assertThat(retrier.get("/v1/jobs/" + first).json().get("status").asString()).isEqualTo("QUEUED");
    }

    /** The API document (and docs/api.md, which OpenApiDocumentTest keeps in step with it) lists every 429 above. */
    @Test
    void theApiDocumentListsThe429OfEachLimitedOperation() {
        var paths = ApiTests.client(port).get("/v3/api-docs").json().get("paths");
        for (var operation : List.of(List.of("/v1/jobs", "post"), List.of("/v1/jobs/batch", "post"),
                List.of("/v1/jobs/{id}", "get"), List.of("/v1/jobs", "get"),
                List.of("/v1/jobs/{id}/retry", "post"))) {
            var responses = paths.get(operation.get(0)).get(operation.get(1)).get("responses");
            assertThat(responses.has("429")).as(operation + " documents 429").isTrue();
            assertThat(responses.get("429").get("headers").has("Retry-After")).as(operation + " 429 Retry-After")
                    .isTrue();
        }
    }

    private double openLongPolls() {
        return meters.get("conveyor.longpolls.open").gauge().value();
    }
}
