package dev.conveyor.api.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

/**
 * When PostgreSQL fails, the answer is a problem document that says so in general words: never the SQL, the
 * database's message, an exception's name or a stack frame. The failure itself is logged on the server.
 */
@ApiTest
@TestPropertySource(properties = "spring.datasource.hikari.connection-timeout=1000")
@ExtendWith(OutputCaptureExtension.class)
class StoreFailureTest {

    /** What a body may not say about a store failure, besides {@link Answers#LEAKS}. */
    private static final List<String> STORE_LEAKS = List.of("jobs_gone", "does not exist", "ERROR:", "PSQL",
            "Hikari", "jdbc", "connection", "42P01", "55000", "57P01");

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
    }

    @LocalServerPort
    int port;
    @Autowired
    JdbcClient jdbc;
    @Autowired
    MeterRegistry meters;
    @Value("${spring.datasource.url}")
    String url;

    RawHttp http;

    @BeforeEach
    void client() {
        http = new RawHttp(port, System.getProperty("conveyor.fuzz.authorization"));
    }

    @Test
    void aFailingStatementIsA500ThatNamesNothing(CapturedOutput output) {
        var job = http.postJson("/v1/jobs", "{\"type\":\"echo\"}").json().get("id").asString();
        jdbc.sql("ALTER TABLE jobs RENAME TO jobs_gone").update();
        try {
            for (var answer : everyRouteThatReadsTheStore(job)) {
                assertGeneric(answer, 500);
            }
        } finally {
            jdbc.sql("ALTER TABLE jobs_gone RENAME TO jobs").update();
        }
        assertThat(output.getOut()).as("the failure, logged on the server")
                .contains("relation \"jobs\" does not exist");
        assertThat(http.get("/v1/jobs/" + job).status()).isEqualTo(200);
    }

    @Test
    void anUnreachableStoreIsA503ThatNamesNothing(CapturedOutput output) throws SQLException {
        var job = http.postJson("/v1/jobs", "{\"type\":\"echo\"}").json().get("id").asString();
        var path = url.substring(url.lastIndexOf('/') + 1);
        var database = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
        try (var admin = DriverManager.getConnection(url.replace("/" + database, "/postgres"), "postgres", "");
                var statement = admin.createStatement()) {
            statement.execute("ALTER DATABASE " + database + " ALLOW_CONNECTIONS false");
            statement.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + database
                    + "'");
            try {
                for (var answer : everyRouteThatReadsTheStore(job)) {
                    assertGeneric(answer, 503);
                    assertThat(answer.header("Retry-After")).isNotNull();
                }
            } finally {
                statement.execute("ALTER DATABASE " + database + " ALLOW_CONNECTIONS true");
            }
        }
        assertThat(output.getOut()).as("the failure, logged on the server").contains("Job store unavailable");
        await().untilAsserted(() ->
                assertThat(http.get("/v1/jobs/" + job).status()).isEqualTo(200));
    }

    /**
     * Long-polls waiting when PostgreSQL goes away (its sessions ended, new ones refused) end by their deadline: a 503
     * problem with Retry-After, or the job as it stood; none hangs past it, none is a 500. The workers' list is the
     * api's memory of heartbeats, not the store's, and still answers. Once the database is back, the long-polls (and
     * their places in the limit of long-polls) are all given back.
     */
    @Test
    void longPollsWaitingWhenTheStoreGoesAwayEndByTheirDeadline() throws Throwable {
        var jobs = new ArrayList<String>();
        for (var i = 0; i < 5; i++) {
            jobs.add(http.postJson("/v1/jobs", "{\"type\":\"nobody-runs-this\"}").json().get("id").asString());
        }
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            var waiting = new ArrayList<Future<RawHttp.Answer>>();
            for (var job : jobs) {
                waiting.add(threads.submit(() -> http.get("/v1/jobs/" + job + "?wait=4")));
            }
            await().until(() -> meters.get("conveyor.longpolls.open").gauge().value() >= jobs.size());
            var started = System.nanoTime();
            withTheStoreAway(() -> {
                for (var poll : waiting) {
                    var answer = poll.get(30, TimeUnit.SECONDS);
                    assertThat(answer.status()).as("%s", answer).isIn(200, 503);
                    if (answer.status() == 503) {
                        assertGeneric(answer, 503);
                        assertThat(answer.header("Retry-After")).isNotNull();
                    }
                }
                assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(15));
                assertThat(http.get("/v1/workers").status()).isEqualTo(200);
            });
        }
        assertThat(meters.get("conveyor.longpolls.open").gauge().value()).isZero();
        await().untilAsserted(() -> assertThat(http.get("/v1/jobs/" + jobs.getFirst() + "?wait=0.1").status())
                .isEqualTo(200));
    }

    private void withTheStoreAway(org.junit.jupiter.api.function.Executable whileAway) throws Throwable {
        var path = url.substring(url.lastIndexOf('/') + 1);
        var database = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
        try (var admin = DriverManager.getConnection(url.replace("/" + database, "/postgres"), "postgres", "");
                var statement = admin.createStatement()) {
            statement.execute("ALTER DATABASE " + database + " ALLOW_CONNECTIONS false");
            statement.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + database
                    + "'");
            try {
                whileAway.execute();
            } finally {
                statement.execute("ALTER DATABASE " + database + " ALLOW_CONNECTIONS true");
            }
        }
    }

    /**
     * Each of the api's sessions starts with the settings that end it when the api is cut off from the database (a
     * partition): a transaction waiting on the api for a minute, an idle session whose api does not answer TCP's
     * probes (README, "What each fault does"). Settings a session cannot take would fail every new connection.
     */
    @Test
    void theApisSessionsEndWhenTheApiIsCutOff() {
        var settings = jdbc.sql("""
                SELECT name, setting FROM pg_settings WHERE name IN ('idle_in_transaction_session_timeout',
                    'tcp_keepalives_idle', 'tcp_keepalives_interval', 'tcp_keepalives_count')""")
                .query((rs, n) -> rs.getString("name") + "=" + rs.getString("setting")).list();
        assertThat(settings).containsExactlyInAnyOrder("idle_in_transaction_session_timeout=60000",
                "tcp_keepalives_idle=60", "tcp_keepalives_interval=10", "tcp_keepalives_count=3");
    }

    private List<RawHttp.Answer> everyRouteThatReadsTheStore(String job) {
        var answers = new ArrayList<RawHttp.Answer>();
        answers.add(http.get("/v1/jobs/" + job));
        answers.add(http.get("/v1/jobs/" + job + "?wait=1"));
        answers.add(http.get("/v1/jobs/" + UUID.randomUUID()));
        answers.add(http.get("/v1/jobs?limit=5"));
        answers.add(http.postJson("/v1/jobs", "{\"type\":\"echo\"}"));
        answers.add(http.postJson("/v1/jobs", "{\"type\":\"echo\"}", "Idempotency-Key: k-" + UUID.randomUUID()));
        answers.add(http.postJson("/v1/jobs/batch", "{\"jobs\":[{\"type\":\"echo\"},{\"type\":\"echo\"}]}"));
        answers.add(http.send("POST", "/v1/jobs/" + job + "/cancel", List.of(), (byte[]) null));
        answers.add(http.send("POST", "/v1/jobs/" + job + "/retry", List.of(), (byte[]) null));
        answers.add(http.get("/v1/queues"));
        answers.add(http.get("/v1/jobs/" + job + "?view=summary"));
        answers.add(http.get("/v1/jobs?limit=5&view=summary&status=QUEUED"));
        return answers;
    }

    private static void assertGeneric(RawHttp.Answer answer, int status) {
        assertThat(answer.status()).as("%s", answer).isEqualTo(status);
        assertThat(answer.contentType()).startsWith("application/problem+json");
        var problem = answer.json();
        assertThat(problem.get("status").asInt()).isEqualTo(status);
        assertThat(problem.get("title").asString()).isNotBlank();
        assertThat(problem.get("type").asString()).startsWith("https://conveyor.dev/problems/");
        assertThat(answer.text()).as("a problem that names nothing").doesNotContain(Answers.LEAKS)
                .doesNotContainIgnoringCase(STORE_LEAKS.toArray(String[]::new));
    }
}
