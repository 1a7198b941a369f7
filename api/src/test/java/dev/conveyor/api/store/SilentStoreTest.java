package dev.conveyor.api.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.test.HttpJson;
import dev.conveyor.common.test.TestKafka;
import dev.conveyor.common.test.TestPostgres;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A database that stops answering without closing its connections (its host gone, a failover that leaves the old
 * primary's connections silent) holds no request for longer than the api's timeouts, tells a client whether its
 * submission may have been stored, and the api goes on as soon as a database answers new connections: submissions,
 * and long-polls woken by a job's end.
 */
@ApiTest
@DirtiesContext
class SilentStoreTest {

    private static final Logger log = LoggerFactory.getLogger(SilentStoreTest.class);
    private static final Pattern HOST_PORT = Pattern.compile("//localhost:(\\d+)/");
    /** Longer than a submission waits for a writer (1 s) plus a pooled connection's checks (Hikari: 5 s at most). */
    private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(10);
    private static final long WRITER_WAIT_BOUND_MS = 7_000;
    private static final Duration IDLE_IN_TRANSACTION = Duration.ofSeconds(2);
    private static String databaseUrl;
    private static SilencingProxy proxy;

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        databaseUrl = TestPostgres.newDatabase();
        var matcher = HOST_PORT.matcher(databaseUrl);
        assertThat(matcher.find()).as("a database URL naming localhost and a port: %s", databaseUrl).isTrue();
        proxy = new SilencingProxy("localhost", Integer.parseInt(matcher.group(1)));
        var proxied = matcher.replaceFirst("//127.0.0.1:" + proxy.port() + "/");
        registry.add("spring.datasource.url", () -> proxied);
        registry.add("spring.datasource.username", () -> "postgres");
        registry.add("spring.datasource.password", () -> "");
        registry.add("spring.kafka.bootstrap-servers", TestKafka::bootstrapServers);
        registry.add("spring.datasource.hikari.data-source-properties.socketTimeout",
                () -> String.valueOf(SOCKET_TIMEOUT.toSeconds()));
        registry.add("conveyor.api.insert-wait", () -> "1s");
        registry.add("spring.datasource.hikari.connection-init-sql",
                () -> "SET idle_in_transaction_session_timeout = '" + IDLE_IN_TRANSACTION.toMillis() + "ms'");
    }

    @AfterAll
    static void closeProxy() throws Exception {
        proxy.close();
    }

    @LocalServerPort
    int port;
    @Autowired
    DataSource dataSource;

    private static JdbcClient direct() {
        var dataSource = new PGSimpleDataSource();
        dataSource.setUrl(databaseUrl);
        dataSource.setUser("postgres");
        dataSource.setOptions("-c statement_timeout=30s");
        return JdbcClient.create(dataSource);
    }

    private static String echo(String key) {
        return "{\"type\": \"echo\", \"idempotencyKey\": \"" + key + "\"}";
    }

    private static long storedWithKey(JdbcClient jdbc, String key) {
        return jdbc.sql("SELECT count(*) FROM jobs WHERE idempotency_key = :key").param("key", key)
                .query(Long.class).single();
    }

    /** What a submission got, and how long it took. */
    private record Answer(String key, HttpJson.Response response, long millis) {
    }

    @Test
    void submissionsAreAnsweredWithinTheTimeoutsAndTheApiGoesOnWithTheDatabaseThatAnswers() throws Exception {
        var http = ApiTests.client(port);
        var jdbc = direct();
        // (after another test of the class, the api's connections may still be on their way back)
        await().atMost(Duration.ofSeconds(60))
                .until(() -> http.post("/v1/jobs", echo("before-" + UUID.randomUUID())).status() == 202);

        proxy.silenceOpenConnections();

        var answers = new ArrayList<CompletableFuture<Answer>>();
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (var i = 0; i < 20; i++) {
                var key = "silent-" + i;
                answers.add(CompletableFuture.supplyAsync(() -> {
                    var started = System.nanoTime();
                    var response = http.post("/v1/jobs", echo(key));
                    return new Answer(key, response, (System.nanoTime() - started) / 1_000_000);
                }, threads));
            }
            for (var future : answers) {
                var answer = future.get(60, TimeUnit.SECONDS);
                var response = answer.response();
                assertThat(response.status()).as(response.text()).isIn(202, 503, 504);
                if (response.status() == 504) {
                    // its write was under way on a silent connection: it waited for the socket timeout, and the
                    // answer cannot say whether the database got it (nor be a 503, which says nothing was stored)
                    assertThat(response.json().get("type").asString()).endsWith("/store-no-answer");
                    assertThat(response.json().get("detail").asString()).contains("may have been");
                    assertThat(answer.millis()).as("%s answered after %d ms", answer.key(), answer.millis())
                            .isLessThan(SOCKET_TIMEOUT.toMillis() + WRITER_WAIT_BOUND_MS);
                    continue;
                }
                // waited for a writer (1 s), or for a connection that answers (Hikari's checks): never for the
                // write under way
                assertThat(answer.millis()).as("%s answered after %d ms", answer.key(), answer.millis())
                        .isLessThan(WRITER_WAIT_BOUND_MS);
                if (response.status() == 202) {
                    assertThat(storedWithKey(jdbc, answer.key())).isEqualTo(1);
                } else {
                    var problem = response.json();
                    assertThat(problem.get("type").asString()).endsWith("/store-unavailable");
                    assertThat(problem.get("detail").asString()).contains("nothing was stored");
                    assertThat(storedWithKey(jdbc, answer.key())).isZero();
                }
            }
        }
        log.info("Submissions while the database was silent: {}", answers.stream().map(CompletableFuture::join)
                .map(a -> a.response().status() + " in " + a.millis() + " ms").toList());
        assertThat(answers).as("some submissions gave up waiting for a writer held by the silent database")
                .anyMatch(answer -> answer.join().response().status() == 503);

        // the api goes on with connections to the database that answers
        await().atMost(Duration.ofSeconds(30))
                .until(() -> http.post("/v1/jobs", echo("after-" + UUID.randomUUID())).status() == 202);

        // and its long-polls are woken again by the ends other instances announce (here: the test, by hand)
        var id = http.post("/v1/jobs", echo("woken")).json().get("id").asString();
        var poll = CompletableFuture.supplyAsync(() -> {
            var started = System.nanoTime();
            var response = http.get("/v1/jobs/" + id + "?wait=25");
            return new Answer(id, response, (System.nanoTime() - started) / 1_000_000);
        });
        jdbc.sql("UPDATE jobs SET status = 'CANCELLED', updated_at = now() WHERE id = :id::uuid").param("id", id)
                .update();
        jdbc.sql("SELECT pg_notify('conveyor_job_ended', :id)").param("id", id).query().singleRow();
        var woken = poll.get(60, TimeUnit.SECONDS);
        log.info("The long-poll of a job ended by hand answered after {} ms", woken.millis());
        assertThat(woken.response().json().get("status").asString()).isEqualTo("CANCELLED");
        assertThat(woken.millis()).as("the long-poll answered after %d ms", woken.millis()).isLessThan(20_000);
    }

    /**
     * A transaction of the api cut off from the database mid-way (a partition: neither side hears the other close)
     * does not keep its row locks until TCP gives up: the database ends it once it has waited on its client for
     * {@code idle_in_transaction_session_timeout}, and the other instances' writes to those jobs go through.
     */
    @Test
    void aTransactionCutOffFromTheDatabaseGivesItsLocksUp() throws Exception {
        var http = ApiTests.client(port);
        var jdbc = direct();
        await().atMost(Duration.ofSeconds(60))
                .until(() -> http.post("/v1/jobs", echo("locked-" + UUID.randomUUID())).status() == 202);
        var id = http.post("/v1/jobs", echo("locked")).json().get("id").asString();

        var cutOff = dataSource.getConnection();
        try {
            cutOff.setAutoCommit(false);
            try (var lock = cutOff.prepareStatement("SELECT id FROM jobs WHERE id = ?::uuid FOR UPDATE")) {
                lock.setString(1, id);
                lock.executeQuery().close();
            }
            proxy.partitionOpenConnections();

            var started = System.nanoTime();
            // what another instance's write to the job does (the direct connection's statement_timeout fails it
            // after 30 s rather than let it wait on)
            var updated = jdbc.sql("UPDATE jobs SET updated_at = now() WHERE id = :id::uuid").param("id", id).update();
            var waitedMs = (System.nanoTime() - started) / 1_000_000;
            log.info("A write to a job locked by a session cut off from its api went through after {} ms", waitedMs);
            assertThat(updated).isEqualTo(1);
            assertThat(waitedMs).isLessThan(IDLE_IN_TRANSACTION.toMillis() + 10_000);
        } finally {
            try {
                cutOff.close();
            } catch (SQLException e) {
                // it cannot roll back over the partition; the pool drops it
            }
        }
    }
}
