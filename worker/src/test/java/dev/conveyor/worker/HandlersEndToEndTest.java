package dev.conveyor.worker;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.example.invoices.InvoiceTotalHandler;
import com.sun.net.httpserver.HttpServer;
import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import dev.conveyor.common.test.TestPostgres;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/** The {@code http}, {@code sql} and a typed handler through api, Kafka and a worker, configured as an operator would. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HandlersEndToEndTest {

    private static final String QUEUE = "handlers";

    private RunningSystem system;
    private HttpServer server;

    @BeforeAll
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 100);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        server.createContext("/greeting", exchange -> {
            var body = "{\"hello\": \"world\"}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.createContext("/binary", exchange -> {
            var body = new byte[] {'G', 'I', 'F', '8', '9', 'a', 0, 0, (byte) 0xff, (byte) 0xfe};
            exchange.getResponseHeaders().add("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.createContext("/echo-credentials", exchange -> {
            var body = ("Authorization: " + exchange.getRequestHeaders().getFirst("Authorization") + "\nCookie: "
                    + exchange.getRequestHeaders().getFirst("Cookie")).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(500, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        system = new RunningSystem(QUEUE);
        system.startWorker(QUEUE, "worker-handlers", List.of(new InvoiceTotalHandler(), new NulHandler()),
                "--conveyor.worker.http.allowed-addresses=127.0.0.0/8,::1/128",
                "--conveyor.worker.sql.url=" + TestPostgres.newDatabase(),
                "--conveyor.worker.sql.username=postgres",
                "--conveyor.worker.sql.pool-size=2",
                "--conveyor.worker.sql.statements.create-city.sql=CREATE TABLE city (name text PRIMARY KEY, "
                        + "population bigint, founded date)",
                "--conveyor.worker.sql.statements.create-city.kind=update",
                "--conveyor.worker.sql.statements.add-city.sql=INSERT INTO city VALUES (:name, :population, :founded)",
                "--conveyor.worker.sql.statements.add-city.kind=update",
                "--conveyor.worker.sql.statements.city.sql=SELECT * FROM city WHERE name = :name");
    }

    @AfterAll
    void stop() {
        system.close();
        server.stop(0);
    }

    private JsonNode runToEnd(String type, String payload) {
        var submitted = system.http().post("/v1/jobs", "{\"type\": \"" + type + "\", \"queue\": \"" + QUEUE
                + "\", \"payload\": " + payload + "}");
        assertThat(submitted.status()).as(submitted.text()).isEqualTo(202);
        var ended = system.http().get("/v1/jobs/" + submitted.json().get("id").asString() + "?wait=60").json();
        assertThat(ended.get("status").asString()).as("%s", ended).isIn("SUCCEEDED", "FAILED", "CANCELLED");
        return ended;
    }

    @Nested
    class Http {

        @Test
        void callsAnAllowedServerAndStoresTheResponse() {
            var job = runToEnd("http", "{\"url\": \"http://localhost:" + server.getAddress().getPort()
                    + "/greeting\"}");
            assertThat(job.get("status").asString()).as("%s", job).isEqualTo("SUCCEEDED");
            assertThat(job.get("result").get("status").asInt()).isEqualTo(200);
            assertThat(Json.tree(job.get("result").get("body").asString()).get("hello").asString()).isEqualTo("world");
        }

        @Test
        void answersABinaryBodyBase64EncodedAndTheApiStoresIt() {
            var job = runToEnd("http", "{\"url\": \"http://localhost:" + server.getAddress().getPort()
                    + "/binary\"}");
            assertThat(job.get("status").asString()).as("%s", job).isEqualTo("SUCCEEDED");
            assertThat(job.get("result").get("bodyEncoding").asString()).isEqualTo("base64");
            assertThat(Base64.getDecoder().decode(job.get("result").get("body").asString()))
                    .containsExactly('G', 'I', 'F', '8', '9', 'a', 0, 0, (byte) 0xff, (byte) 0xfe);
        }

        @Test
        void keepsTheCallsCredentialsOutOfTheStoredErrorAndTheLogs() {
            var token = "tok-" + UUID.randomUUID();
            var session = "sess-" + UUID.randomUUID();
            var logs = new ListAppender<ILoggingEvent>();
            var root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
            logs.start();
            root.addAppender(logs);
            JsonNode job;
            try {
                job = runToEnd("http", "{\"url\": \"http://localhost:" + server.getAddress().getPort()
                        + "/echo-credentials\", \"headers\": {\"Authorization\": \"Bearer " + token
                        + "\", \"Cookie\": \"session=" + session + "\"}}");
            } finally {
                root.detachAppender(logs);
            }
            assertThat(job.get("status").asString()).as("%s", job).isEqualTo("FAILED");
            assertThat(job.get("error").get("message").asString()).contains("answered 500", "Authorization: ****",
                    "Cookie: ****").doesNotContain(token, session);
            assertThat(logs.list).allSatisfy(event -> assertThat(event.getFormattedMessage()
                    + (event.getThrowableProxy() == null ? "" : event.getThrowableProxy().getMessage()))
                    .doesNotContain(token, session));
        }

        @Test
        void failsAtOnceForTheCloudMetadataAddress() {
            var job = runToEnd("http", "{\"url\": \"http://169.254.169.254/latest/meta-data/\"}");
            assertThat(job.get("status").asString()).isEqualTo("FAILED");
            assertThat(job.get("attempts").asInt()).isEqualTo(1);
            assertThat(job.get("error").get("retryable").asBoolean()).isFalse();
            assertThat(job.get("error").get("message").asString()).contains("link-local");
        }
    }

    @Nested
    class Sql {

        @Test
        void runsNamedStatementsWithBoundParameters() {
            assertThat(runToEnd("sql", "{\"statement\": \"create-city\"}").get("result"))
                    .isEqualTo(Json.tree("{\"updated\": 0}"));
            var added = runToEnd("sql", "{\"statement\": \"add-city\", \"params\": {\"name\": \"Bob'; DROP TABLE city; --\","
                    + " \"population\": 120000, \"founded\": \"1201-04-01\"}}");
            assertThat(added.get("result")).isEqualTo(Json.tree("{\"updated\": 1}"));
            var found = runToEnd("sql", "{\"statement\": \"city\", \"params\": {\"name\": \"Bob'; DROP TABLE city; --\"}}");
            assertThat(found.get("result")).isEqualTo(Json.tree("{\"rows\": [{\"name\": \"Bob'; DROP TABLE city; --\","
                    + " \"population\": 120000, \"founded\": \"1201-04-01\"}], \"rowCount\": 1}"));
        }

        @Test
        void failsAtOnceForAnUnknownStatement() {
            var job = runToEnd("sql", "{\"statement\": \"drop-everything\"}");
            assertThat(job.get("status").asString()).isEqualTo("FAILED");
            assertThat(job.get("attempts").asInt()).isEqualTo(1);
            assertThat(job.get("error").get("message").asString()).contains("unknown statement 'drop-everything'");
        }
    }

    /** Returns what no JSON store keeps: a NUL character. */
    static final class NulHandler implements JobHandler {

        @Override
        public String type() {
            return "nul";
        }

        @Override
        public JsonNode handle(JobContext context) {
            return Json.object().put("body", "a\u0000b");
        }
    }

    @Test
    void failsAResultThatCannotBeStoredAndGoesOnWithTheNextJob() {
        var job = runToEnd("nul", "{}");
        assertThat(job.get("status").asString()).as("%s", job).isEqualTo("FAILED");
        assertThat(job.get("attempts").asInt()).isEqualTo(1);
        assertThat(job.get("error").get("code").asString()).isEqualTo("RESULT_INVALID");
        assertThat(job.get("error").get("message").asString()).contains("result.body", "NUL");

        assertThat(runToEnd("echo", "{\"after\": true}").get("status").asString()).isEqualTo("SUCCEEDED");
    }

    @Test
    void runsATypedHandlerDeclaredByTheApplication() {
        var job = runToEnd("invoice-total", "{\"currency\": \"EUR\", \"lines\": [{\"sku\": \"a\", \"quantity\": 3,"
                + " \"unitPrice\": 2.5}]}");
        assertThat(job.get("status").asString()).as("%s", job).isEqualTo("SUCCEEDED");
        assertThat(job.get("result").get("items").asInt()).isEqualTo(3);
    }

    @Test
    void handlersReadPayloadNumbersExactlyAndTheirResultsAreStoredSo() {
        var invoice = runToEnd("invoice-total", "{\"currency\": \"EUR\", \"lines\": [{\"sku\": \"a\", \"quantity\": 3,"
                + " \"unitPrice\": 0.1000000000000000000001}]}");
        assertThat(invoice.get("status").asString()).as("%s", invoice).isEqualTo("SUCCEEDED");
        assertThat(invoice.get("result").get("total").decimalValue())
                .isEqualByComparingTo(new BigDecimal("0.3000000000000000000003"));

        // echoed through the worker and back: 992 characters written out, as jsonb keeps 1e-990
        var echoed = runToEnd("echo", "{\"x\": 0.1000000000000000000001, \"tiny\": 1e-990, \"big\": 1e300}");
        assertThat(echoed.get("status").asString()).as("%s", echoed).isEqualTo("SUCCEEDED");
        assertThat(echoed.get("result").get("x").decimalValue())
                .isEqualByComparingTo(new BigDecimal("0.1000000000000000000001"));
        assertThat(echoed.get("result").get("tiny").decimalValue()).isEqualByComparingTo(new BigDecimal("1e-990"));
        assertThat(echoed.get("result").get("big").decimalValue()).isEqualByComparingTo(new BigDecimal("1e300"));
    }
}
