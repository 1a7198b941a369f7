package dev.conveyor.api.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.Json;
import dev.conveyor.common.test.HttpJson;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** API keys, scopes and tenants, against an api with keys configured. */
@ApiTest
@ExtendWith(OutputCaptureExtension.class)
class AuthTest {

    static final String ADMIN = "cvk_test-admin-0123456789abcdef0123456789abcdef";
    static final String ACME = "cvk_test-acme-rw-0123456789abcdef0123456789abcdef";
    static final String ACME_READ = "cvk_test-acme-ro-0123456789abcdef0123456789abcdef";
    static final String ACME_WRITE = "cvk_test-acme-wo-0123456789abcdef0123456789abcdef";
    static final String GLOBEX = "cvk_test-globex-rw-0123456789abcdef0123456789abcdef";
    static final String DOOMED = "cvk_test-doomed-0123456789abcdef0123456789abcdef";

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
        ApiTests.apiKey(registry, 0, "ops-admin", "ops", ADMIN, "admin");
        ApiTests.apiKey(registry, 1, "acme-rw", "acme", ACME, "jobs:write", "jobs:read");
        ApiTests.apiKey(registry, 2, "acme-ro", "acme", ACME_READ, "jobs:read");
        ApiTests.apiKey(registry, 3, "acme-wo", "acme", ACME_WRITE, "jobs:write");
        ApiTests.apiKey(registry, 4, "globex-rw", "globex", GLOBEX, "jobs:write", "jobs:read");
        ApiTests.apiKey(registry, 5, "doomed", "acme", DOOMED, "jobs:read");
    }

    @LocalServerPort
    int port;
    @Autowired
    JdbcClient jdbc;
    @Autowired
    MeterRegistry meters;
    @Autowired
    DataSource dataSource;

    HttpJson anonymous;
    HttpJson admin;
    HttpJson acme;
    HttpJson globex;

    @BeforeEach
    void clients() {
        anonymous = ApiTests.client(port);
        admin = anonymous.withKey(ADMIN);
        acme = anonymous.withKey(ACME);
        globex = anonymous.withKey(GLOBEX);
    }

    private String submit(HttpJson client, String body) {
        var response = client.post("/v1/jobs", body);
        assertThat(response.status()).as(response.text()).isEqualTo(202);
        return response.json().get("id").asString();
    }

    /** Every endpoint, with a request that would succeed or fail on its merits once the key is right. */
    private List<Call> everyEndpoint(String jobId) {
        return List.of(
                new Call("POST", "/v1/jobs", "{\"type\": \"echo\"}"),
                new Call("POST", "/v1/jobs/batch", "{\"jobs\": [{\"type\": \"echo\"}]}"),
                new Call("GET", "/v1/jobs", null),
                new Call("GET", "/v1/jobs/" + jobId, null),
                new Call("GET", "/v1/jobs/" + jobId + "?wait=1", null),
                new Call("POST", "/v1/jobs/" + jobId + "/cancel", ""),
                new Call("POST", "/v1/jobs/" + jobId + "/retry", ""),
                new Call("GET", "/v1/queues", null),
                new Call("GET", "/v1/workers", null),
                new Call("GET", "/v1/stats", null),
                new Call("GET", "/v1/keys", null),
                new Call("GET", "/v1/keys/acme-ro", null),
                new Call("POST", "/v1/keys", "{\"name\": \"x\", \"tenant\": \"acme\", \"scopes\": [\"jobs:read\"]}"),
                new Call("DELETE", "/v1/keys/acme-ro", null),
                new Call("GET", "/actuator/prometheus", null),
                new Call("GET", "/actuator/health", null),
                new Call("GET", "/v1/no-such-thing", null));
    }

    record Call(String method, String path, String body) {

        HttpJson.Response send(HttpJson client) {
            return switch (method) {
                case "GET" -> client.get(path);
                case "DELETE" -> client.delete(path);
                default -> client.post(path, body);
            };
        }
    }

    @Nested
    class WithoutAValidKey {

        @Test
        void everyEndpointAnswers401WithAProblemAndNothingIsStored() {
            var jobId = submit(acme, "{\"type\": \"echo\"}");
            var jobsBefore = jdbc.sql("SELECT count(*) FROM jobs").query(Long.class).single();
            for (var client : List.of(anonymous, anonymous.withKey("cvk_wrong"), anonymous.withKey(""),
                    anonymous.withKey(ADMIN + "x"), anonymous.withKey(KeyHash.of(ADMIN)))) {
                for (var call : everyEndpoint(jobId)) {
                    var response = call.send(client);
                    assertThat(response.status()).as(call.toString()).isEqualTo(401);
                    assertThat(response.contentType()).isEqualTo("application/problem+json");
                    assertThat(response.json().get("title").asString()).isEqualTo("Unauthorized");
                    assertThat(response.header("WWW-Authenticate")).startsWith("Bearer realm=\"conveyor\"");
                }
            }
            assertThat(jdbc.sql("SELECT count(*) FROM jobs").query(Long.class).single()).isEqualTo(jobsBefore);
            assertThat(acme.get("/v1/jobs/" + jobId).json().get("status").asString()).isNotEqualTo("CANCELLED");
        }

        @Test
        void aKeyInAnotherSchemeIsNoKey() {
            var response = anonymous.get("/v1/jobs", "Authorization", "Basic " + ACME);

            assertThat(response.status()).isEqualTo(401);
        }

        /** Which of two keys counts would be a guess, and a proxy in front may have guessed the other. */
        @Test
        void twoKeysInOneRequestAreA400NamingAuthorization() {
            var response = anonymous.get("/v1/jobs", "Authorization", "Bearer " + ACME_READ, "Authorization",
                    "Bearer " + ADMIN);

            assertThat(response.status()).isEqualTo(400);
            assertThat(response.contentType()).isEqualTo("application/problem+json");
            assertThat(response.json().get("errors").get(0).get("field").asString()).isEqualTo("Authorization");
        }

        @Test
        void theDashboardFilesTheApiDocumentAndTheProbesNeedNoKey() {
            for (var path : List.of("/", "/js/app.js", "/style.css", "/dashboard.json", "/v3/api-docs",
                    "/actuator/health/liveness")) {
                assertThat(anonymous.get(path).status()).as(path).isEqualTo(200);
            }
            assertThat(anonymous.get("/dashboard.json").json().get("refreshMillis").asLong()).as("by default")
                    .isEqualTo(2000);
            // readiness asks PostgreSQL within its own timeout, which a loaded machine can miss for a while
            await("readiness answered without a key").atMost(Duration.ofSeconds(30))
                    .until(() -> anonymous.get("/actuator/health/readiness").status() == 200);
        }

        /**
         * Tomcat resolves {@code ..} (also written {@code ..;} or {@code %2e%2e}) before the key check reads the path;
         * Spring MVC routes on the path as sent, where the segments stay. The health endpoint's path takes any
         * segments: such a path, read as the open liveness probe or as no actuator path at all, reached it without a
         * key, or with a key without admin (a 500 and a stack trace in the log for each).
         */
        @Test
        void aPathThatReachesTheActuatorOnlyOnceRoutedStillNeedsAnAdminKey() {
            for (var path : List.of("/actuator/health/x/..;/liveness", "/actuator/health/x/%2e%2e/readiness",
                    "/actuator/health/db/..;/..;/..;/v1/jobs")) {
                var anonymously = anonymous.get(path);
                assertThat(anonymously.status()).as(path).isEqualTo(401);
                assertThat(anonymously.contentType()).isEqualTo("application/problem+json");
                var withoutAdmin = acme.get(path);
                assertThat(withoutAdmin.status()).as(path).isEqualTo(403);
                assertThat(withoutAdmin.json().get("detail").asString()).contains("admin");
            }
            // as sent, the probes are still open
            assertThat(anonymous.get("/actuator/health/liveness;v=1").status()).isEqualTo(200);
        }

        @Test
        void theProbesShowNoDetails() {
            assertThat(anonymous.get("/actuator/health/readiness").json().has("components")).isFalse();
        }
    }

    @Nested
    class Scopes {

        @Test
        void aReadOnlyKeyCannotSubmitCancelOrRetry() {
            var jobId = submit(acme, "{\"type\": \"echo\"}");
            var reader = anonymous.withKey(ACME_READ);

            for (var call : List.of(new Call("POST", "/v1/jobs", "{\"type\": \"echo\"}"),
                    new Call("POST", "/v1/jobs/batch", "{\"jobs\": [{\"type\": \"echo\"}]}"),
                    new Call("POST", "/v1/jobs/" + jobId + "/cancel", ""),
                    new Call("POST", "/v1/jobs/" + jobId + "/retry", ""))) {
                var response = call.send(reader);
                assertThat(response.status()).as(call.toString()).isEqualTo(403);
                assertThat(response.json().get("detail").asString()).contains("jobs:write");
            }
            assertThat(reader.get("/v1/jobs/" + jobId).status()).isEqualTo(200);
            assertThat(reader.get("/v1/jobs").status()).isEqualTo(200);
        }

        /**
         * It cannot get, wait for or list jobs; but the answer to a cancel, a retry or a replayed submission is the job
         * (the contract's), so it learns the jobs it names, as docs/api.md says.
         */
        @Test
        void aWriteOnlyKeyCannotRead() {
            var writer = anonymous.withKey(ACME_WRITE);
            var jobId = submit(writer, "{\"type\": \"echo\"}");
            var theirs = submit(acme, "{\"type\": \"echo\", \"payload\": {\"note\": \"acme-rw's\"}}");

            assertThat(writer.get("/v1/jobs/" + jobId).status()).isEqualTo(403);
            assertThat(writer.get("/v1/jobs/" + jobId + "?wait=1").status()).isEqualTo(403);
            assertThat(writer.get("/v1/jobs").status()).isEqualTo(403);
            assertThat(writer.post("/v1/jobs/" + jobId + "/cancel", "").status()).isEqualTo(202);
            var cancelled = writer.post("/v1/jobs/" + theirs + "/cancel", "");
            assertThat(cancelled.status()).isEqualTo(202);
            assertThat(cancelled.json().get("payload").get("note").asString()).isEqualTo("acme-rw's");
        }

        @Test
        void onlyAdminsSeeQueuesWorkersStatsKeysAndMetrics() {
            for (var path : List.of("/v1/queues", "/v1/workers", "/v1/stats", "/v1/keys", "/actuator/prometheus",
                    "/actuator/health", "/actuator")) {
                var refused = acme.get(path);
                assertThat(refused.status()).as(path).isEqualTo(403);
                assertThat(refused.contentType()).isEqualTo("application/problem+json");
                assertThat(admin.get(path).status()).as(path).isEqualTo(200);
            }
            assertThat(acme.post("/v1/keys", "{\"name\": \"mine\", \"tenant\": \"globex\", \"scopes\": [\"admin\"]}")
                    .status()).isEqualTo(403);
            assertThat(acme.delete("/v1/keys/globex-rw").status()).isEqualTo(403);
            assertThat(acme.get("/v1/keys/globex-rw").status()).isEqualTo(403);
            assertThat(globex.get("/v1/jobs").status()).isEqualTo(200);
        }
    }

    @Nested
    class KeysMadeAndRevoked {

        @Test
        void aKeyMadeThroughTheApiWorksAtOnceAndStopsWhenRevoked(CapturedOutput output) {
            var made = admin.post("/v1/keys",
                    "{\"name\": \"ci deploys\", \"tenant\": \"initech\", \"scopes\": [\"jobs:write\", \"jobs:read\"]}");
            assertThat(made.status()).as(made.text()).isEqualTo(201);
            var key = made.json().get("key").asString();
            var id = made.json().get("id").asString();
            assertThat(key).startsWith("cvk_").hasSizeGreaterThan(40);
            assertThat(made.header("Location")).isEqualTo("/v1/keys/" + id);
            // the answer holds the secret: no cache along the way keeps it
            assertThat(made.header("Cache-Control")).isEqualTo("no-store");
            assertThat(made.json().get("tenant").asString()).isEqualTo("initech");

            var initech = anonymous.withKey(key);
            var jobId = submit(initech, "{\"type\": \"echo\"}");
            assertThat(initech.get("/v1/jobs/" + jobId).status()).isEqualTo(200);
            assertThat(jdbc.sql("SELECT tenant FROM jobs WHERE id = :id").param("id", UUID.fromString(jobId))
                    .query(String.class).single()).isEqualTo("initech");

            var listed = admin.get("/v1/keys").json().get("keys");
            var shown = Json.write(listed);
            assertThat(shown).contains(id).doesNotContain(key).doesNotContain(KeyHash.of(key));
            // the Location names a key that can be read
            var one = admin.get(made.header("Location"));
            assertThat(one.status()).as(one.text()).isEqualTo(200);
            assertThat(one.json().get("id").asString()).isEqualTo(id);
            assertThat(one.json().get("tenant").asString()).isEqualTo("initech");
            assertThat(one.json().get("key").isNull()).isTrue();
            assertThat(one.json().get("revokedAt").isNull()).isTrue();
            assertThat(one.text()).doesNotContain(key).doesNotContain(KeyHash.of(key));
            assertThat(admin.get("/v1/keys/key_nosuchkey1").status()).isEqualTo(404);
            var absurd = admin.get("/v1/keys/" + "x".repeat(5_000));
            assertThat(absurd.status()).isEqualTo(404);
            assertThat(absurd.json().get("detail").asString()).hasSizeLessThan(80);

            var revoked = admin.delete("/v1/keys/" + id);
            assertThat(revoked.status()).isEqualTo(200);
            assertThat(revoked.json().get("revokedAt").isNull()).isFalse();
            assertThat(admin.get("/v1/keys/" + id).json().get("revokedAt").isNull()).isFalse();
            for (var call : everyEndpoint(jobId)) {
                assertThat(call.send(initech).status()).as(call.toString()).isEqualTo(401);
            }

            assertThat(output.getAll()).contains(id).doesNotContain(key);
        }

        /**
         * A key's name is 1 to 100 printable characters, which a line separator (U+2028) and bidi controls are; the
         * line that logs the key's making writes them as escapes, so that they neither start a line in a viewer that
         * breaks lines there nor reorder what a reader sees.
         */
        @Test
        void aKeysNameIsLoggedWithoutItsLineSeparatorsAndBidiControls(CapturedOutput output) {
            var before = output.getAll().length();
            var made = admin.post("/v1/keys", "{\"name\": \"ci\\u2028forged line \\u202eexe.txt\", "
                    + "\"tenant\": \"initech\", \"scopes\": [\"jobs:read\"]}");
            assertThat(made.status()).as(made.text()).isEqualTo(201);
            var id = made.json().get("id").asString();

            var logged = output.getAll().substring(before).lines().filter(line -> line.contains("API key " + id))
                    .toList();
            assertThat(logged).singleElement().satisfies(line -> assertThat(line)
                    .contains("ci\\u2028forged line \\u202eexe.txt").doesNotContain("\u2028", "\u202e"));
        }

        /** The secret is shown once: a client that accepts only HTML must still get it, as JSON, not a 406. */
        @Test
        void aKeyMadeAndRevokedForAClientThatAcceptsOnlyHtmlIsAnsweredAsJson() {
            var made = admin.post("/v1/keys",
                    "{\"name\": \"html\", \"tenant\": \"initech\", \"scopes\": [\"jobs:read\"]}",
                    "application/json", "Accept", "text/html");

            assertThat(made.status()).as(made.text()).isEqualTo(201);
            assertThat(made.contentType()).isEqualTo("application/json");
            var id = made.json().get("id").asString();
            assertThat(made.header("Location")).isEqualTo("/v1/keys/" + id);
            var key = anonymous.withKey(made.json().get("key").asString());
            assertThat(key.get("/v1/jobs").status()).isEqualTo(200);

            var revoked = admin.delete("/v1/keys/" + id, "Accept", "text/html");
            assertThat(revoked.status()).as(revoked.text()).isEqualTo(200);
            assertThat(revoked.contentType()).isEqualTo("application/json");
            assertThat(revoked.json().get("revokedAt").isNull()).isFalse();
            assertThat(key.get("/v1/jobs").status()).isEqualTo(401);
        }

        @Test
        void aConfiguredKeyCanBeRevokedWithoutARestart() {
            var doomed = anonymous.withKey(DOOMED);
            assertThat(doomed.get("/v1/jobs").status()).isEqualTo(200);

            var revoked = admin.delete("/v1/keys/doomed");
            assertThat(revoked.status()).isEqualTo(200);
            // as docs/api.md's Key says, and as GET /v1/keys lists it: a key of the configuration has no createdAt
            var answer = revoked.json();
            assertThat(answer.get("source").asString()).isEqualTo("configuration");
            assertThat(answer.get("createdAt").isNull()).as(revoked.text()).isTrue();
            assertThat(answer.get("revokedAt").isNull()).isFalse();

            assertThat(doomed.get("/v1/jobs").status()).isEqualTo(401);
            var listed = Json.write(admin.get("/v1/keys").json());
            assertThat(listed).contains("\"id\":\"doomed\"");
            assertThat(admin.delete("/v1/keys/doomed").json().get("createdAt").isNull()).isTrue();
        }

        @Test
        void aLongPollWhoseKeyIsRevokedWhileItWaitsShowsNothing() throws Exception {
            var made = admin.post("/v1/keys",
                    "{\"name\": \"poller\", \"tenant\": \"acme\", \"scopes\": [\"jobs:read\"]}");
            var poller = anonymous.withKey(made.json().get("key").asString());
            var jobId = submit(acme, "{\"type\": \"echo\"}");
            var polls = Executors.newVirtualThreadPerTaskExecutor();
            try (polls) {
                var revokedOne = polls.submit(() -> poller.get("/v1/jobs/" + jobId + "?wait=3"));
                var activeOne = polls.submit(() -> acme.get("/v1/jobs/" + jobId + "?wait=3"));
                await().atMost(Duration.ofSeconds(10)).until(() -> openLongPolls() == 2);

                assertThat(admin.delete("/v1/keys/" + made.json().get("id").asString()).status()).isEqualTo(200);

                var refused = revokedOne.get(10, TimeUnit.SECONDS);
                assertThat(refused.status()).as(refused.text()).isEqualTo(401);
                assertThat(refused.json().get("type").asString()).endsWith("/unauthorized");
                assertThat(refused.json().has("queue")).as("the job's fields").isFalse();
                assertThat(refused.header("WWW-Authenticate")).contains("invalid_token");
                assertThat(activeOne.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            }
        }

        /**
         * A request that was let in while its body was still to come is acted on only if its key is still active once
         * the body is in: a body may take minutes (body-timeout, plus a second per body-min-rate bytes), and a key
         * revoked meanwhile submitted its jobs, or made a new admin key, after its revocation.
         */
        @Test
        void aRequestWhoseKeyIsRevokedWhileItsBodyArrivesIsRefused() throws Exception {
            var made = admin.post("/v1/keys",
                    "{\"name\": \"slow\", \"tenant\": \"slowpoke\", \"scopes\": [\"admin\"]}");
            var key = made.json().get("key").asString();
            var bodies = List.of(
                    List.of("/v1/jobs", "{\"type\": \"echo\"}"),
                    List.of("/v1/jobs/batch", "{\"jobs\": [{\"type\": \"echo\"}, {\"type\": \"echo\"}]}"),
                    List.of("/v1/keys", "{\"name\": \"kept\", \"tenant\": \"slowpoke\", \"scopes\": [\"admin\"]}"));
            var underWay = new ArrayList<BodyToCome>();
            try {
                for (var request : bodies) {
                    underWay.add(BodyToCome.open(port, key, request.get(0), request.get(1)));
                }

                assertThat(admin.delete("/v1/keys/" + made.json().get("id").asString()).status()).isEqualTo(200);

                for (var request : underWay) {
                    var answer = request.finish();
                    assertThat(answer).as(request.path()).startsWith("HTTP/1.1 401 ").contains("invalid_token")
                            .contains("/problems/unauthorized");
                }
            } finally {
                underWay.forEach(BodyToCome::close);
            }
            assertThat(jdbc.sql("SELECT count(*) FROM jobs WHERE tenant = 'slowpoke'").query(Long.class).single())
                    .isZero();
            assertThat(jdbc.sql("SELECT count(*) FROM api_keys WHERE tenant = 'slowpoke'").query(Long.class).single())
                    .isEqualTo(1);
        }

        private double openLongPolls() {
            return meters.get("conveyor.longpolls.open").gauge().value();
        }

        @Test
        void aKeyRevokedInTheTableIsRefusedWithinTheRefreshInterval() {
            var made = admin.post("/v1/keys", "{\"name\": \"elsewhere\", \"tenant\": \"acme\", \"scopes\": [\"jobs:read\"]}");
            var key = anonymous.withKey(made.json().get("key").asString());
            assertThat(key.get("/v1/jobs").status()).isEqualTo(200);

            // as another api instance revokes it: straight in the table, this instance learns it on its next read
            jdbc.sql("UPDATE api_keys SET revoked_at = now() WHERE id = :id")
                    .param("id", made.json().get("id").asString()).update();

            await().atMost(Duration.ofSeconds(10)).until(() -> key.get("/v1/jobs").status() == 401);
        }

        @Test
        void badRequestsToMakeAKeyNameTheirFields() {
            var response = admin.post("/v1/keys", "{\"name\": \"\", \"tenant\": \"Not A Tenant\", "
                    + "\"scopes\": [\"root\"], \"extra\": 1}");

            assertThat(response.status()).isEqualTo(400);
            var fields = response.json().get("errors").valueStream().map(e -> e.get("field").asString()).toList();
            assertThat(fields).containsExactlyInAnyOrder("extra", "name", "tenant", "scopes[0]");
            assertThat(admin.delete("/v1/keys/no-such-key").status()).isEqualTo(404);
        }

        @Test
        void aKeyRequestDeclaredInAnotherCharsetIs415() {
            var response = admin.post("/v1/keys", "{\"name\": \"caf\u00e9\", \"tenant\": \"acme\", "
                    + "\"scopes\": [\"jobs:read\"]}", "application/json; charset=ISO-8859-1");

            assertThat(response.status()).isEqualTo(415);
            assertThat(response.json().get("errors").get(0).get("field").asString()).isEqualTo("Content-Type");
        }
    }

    @Nested
    class Tenants {

        @Test
        void anotherTenantsJobDoesNotExist() {
            var jobId = submit(acme, "{\"type\": \"echo\", \"payload\": {\"secret\": \"acme's\"}}");

            for (var call : List.of(new Call("GET", "/v1/jobs/" + jobId, null),
                    new Call("GET", "/v1/jobs/" + jobId + "?wait=0.5", null),
                    new Call("POST", "/v1/jobs/" + jobId + "/cancel", ""),
                    new Call("POST", "/v1/jobs/" + jobId + "/retry", ""))) {
                var theirs = call.send(globex);
                var none = call.send(globex.withKey(GLOBEX));
                assertThat(theirs.status()).as(call.toString()).isEqualTo(404);
                assertThat(theirs.text()).doesNotContain("acme");
                var random = new Call(call.method(), call.path().replace(jobId, UUID.randomUUID().toString()),
                        call.body()).send(globex);
                assertThat(random.status()).isEqualTo(none.status());
                assertThat(random.json().get("title").asString()).isEqualTo(theirs.json().get("title").asString());
            }
            assertThat(acme.get("/v1/jobs/" + jobId).json().get("status").asString()).isNotEqualTo("CANCELLED");
            assertThat(admin.get("/v1/jobs/" + jobId).status()).isEqualTo(200);
            // its own tenant's long-poll (of a job submitted on this instance) answers with the job at the deadline
            var polled = acme.get("/v1/jobs/" + jobId + "?wait=0.5");
            assertThat(polled.status()).isEqualTo(200);
            assertThat(polled.json().get("id").asString()).isEqualTo(jobId);
            assertThat(polled.json().get("status").asString()).isEqualTo("QUEUED");
        }

        /**
         * A retry locked the job's row before it looked at whose job it was: another tenant's retry of a job whose row
         * was locked (its outcome being written, say) waited for that lock, where a job that does not exist answers
         * at once, so the wait told it the job exists; and it held the row of a job not its own.
         */
        @Test
        void retryingAnotherTenantsJobNeitherWaitsForItsRowNorLocksIt() throws Exception {
            var jobId = submit(acme, "{\"type\": \"echo\", \"runAt\": \"2099-01-01T00:00:00Z\"}");
            try (var polls = Executors.newVirtualThreadPerTaskExecutor(); var holder = dataSource.getConnection()) {
                holder.setAutoCommit(false);
                try (var lock = holder.prepareStatement("SELECT 1 FROM jobs WHERE id = ? FOR UPDATE")) {
                    lock.setObject(1, UUID.fromString(jobId));
                    lock.executeQuery().close();
                }
                var theirs = polls.submit(() -> globex.post("/v1/jobs/" + jobId + "/retry", ""));
                var random = globex.post("/v1/jobs/" + UUID.randomUUID() + "/retry", "");

                var answer = theirs.get(5, TimeUnit.SECONDS);
                assertThat(answer.status()).isEqualTo(404).isEqualTo(random.status());
                holder.rollback();
            }
        }

        @Test
        void listingsShowOnlyTheTenantsOwnJobsWhateverTheFiltersAndCursors() {
            var acmeJobs = new java.util.ArrayList<String>();
            for (var i = 0; i < 5; i++) {
                acmeJobs.add(submit(acme, "{\"type\": \"report\", \"queue\": \"list-q\"}"));
            }
            var globexJob = submit(globex, "{\"type\": \"report\", \"queue\": \"list-q\"}");

            for (var query : List.of("", "?queue=list-q", "?type=report", "?status=QUEUED", "?limit=500",
                    "?queue=list-q&type=report&limit=2")) {
                var ids = ids(globex.get("/v1/jobs" + query));
                assertThat(ids).as(query).contains(globexJob).doesNotContainAnyElementsOf(acmeJobs);
            }
            // acme's cursor, used by globex, pages through globex's jobs only
            var acmePage = acme.get("/v1/jobs?limit=1").json();
            var cursor = acmePage.get("next").asString();
            assertThat(ids(globex.get("/v1/jobs?after=" + cursor))).doesNotContainAnyElementsOf(acmeJobs);
            assertThat(ids(acme.get("/v1/jobs?queue=list-q&limit=500"))).containsAll(acmeJobs)
                    .doesNotContain(globexJob);
            assertThat(ids(admin.get("/v1/jobs?queue=list-q&limit=500"))).containsAll(acmeJobs).contains(globexJob);
        }

        @Test
        void idempotencyKeysArePerTenant() {
            var body = "{\"type\": \"echo\", \"idempotencyKey\": \"order-42\"}";
            var first = acme.post("/v1/jobs", body);
            assertThat(first.status()).isEqualTo(202);

            var same = globex.post("/v1/jobs", body);
            assertThat(same.status()).isEqualTo(202);
            assertThat(same.header("Idempotent-Replayed")).isNull();
            assertThat(same.json().get("id").asString()).isNotEqualTo(first.json().get("id").asString());

            var different = globex.post("/v1/jobs", "{\"type\": \"other\", \"idempotencyKey\": \"order-43\"}");
            assertThat(acme.post("/v1/jobs", "{\"type\": \"changed\", \"idempotencyKey\": \"order-43\"}").status())
                    .isEqualTo(202);
            assertThat(different.status()).isEqualTo(202);

            var replay = acme.post("/v1/jobs", body);
            assertThat(replay.status()).isEqualTo(200);
            assertThat(replay.json().get("id").asString()).isEqualTo(first.json().get("id").asString());
            var batch = globex.post("/v1/jobs/batch", "{\"jobs\": [" + body + "]}");
            assertThat(batch.status()).isEqualTo(202);
            assertThat(batch.json().get("jobs").get(0).get("id").asString())
                    .isEqualTo(same.json().get("id").asString());
        }

        private List<String> ids(HttpJson.Response response) {
            assertThat(response.status()).as(response.text()).isEqualTo(200);
            return response.json().get("jobs").valueStream().map(job -> job.get("id").asString()).toList();
        }
    }

    @Nested
    class Secrets {

        @Test
        void keysAppearNeitherInLogsNorInToString(CapturedOutput output) {
            acme.post("/v1/jobs", "{\"type\": \"echo\"}");
            anonymous.withKey("cvk_not-a-real-key").get("/v1/jobs");

            assertThat(output.getAll()).doesNotContain(ACME).doesNotContain("cvk_not-a-real-key");
            var configured = new AuthProperties.ConfiguredKey("k", "t", List.of("admin"), KeyHash.of(ADMIN));
            assertThat(configured.toString()).doesNotContain(KeyHash.of(ADMIN));
        }
    }

    /**
     * A POST whose head is sent with {@code Expect: 100-continue} and whose body follows only once the api has begun
     * to read it (Tomcat then answers {@code 100 Continue}): the request is past the key check by then.
     */
    record BodyToCome(String path, String body, Socket socket) implements AutoCloseable {

        static BodyToCome open(int port, String key, String path, String body) throws IOException {
            var socket = new Socket("localhost", port);
            socket.setSoTimeout(10_000);
            var head = "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer " + key + "\r\nContent-Length: "
                    + body.getBytes(StandardCharsets.UTF_8).length
                    + "\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n";
            socket.getOutputStream().write(head.getBytes(StandardCharsets.ISO_8859_1));
            var interim = new StringBuilder();
            var in = socket.getInputStream();
            while (!interim.toString().endsWith("\r\n\r\n")) {
                var b = in.read();
                if (b < 0) {
                    break;
                }
                interim.append((char) b);
            }
            assertThat(interim.toString()).as(path).startsWith("HTTP/1.1 100 ");
            return new BodyToCome(path, body, socket);
        }

        /** Sends the body; the answer, head and body. */
        String finish() throws IOException {
            socket.getOutputStream().write(body.getBytes(StandardCharsets.UTF_8));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException e) {
                // closing a test's socket
            }
        }
    }
}
