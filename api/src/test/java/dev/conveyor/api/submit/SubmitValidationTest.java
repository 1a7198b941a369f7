package dev.conveyor.api.submit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.ApiTest;
import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import dev.conveyor.common.test.HttpJson;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/** Every rule of the contract, broken one at a time: a 400 (or 413, 415) naming the field, and nothing stored. */
@ApiTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SubmitValidationTest {

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        dev.conveyor.api.ApiTests.services(registry);
    }

    @LocalServerPort
    int port;
    @Autowired
    JdbcClient jdbc;
    @Autowired
    Admin admin;
    @Autowired
    ApiProperties properties;

    HttpJson http;
    long kafkaRecordsBefore;

    @BeforeAll
    void start() throws Exception {
        http = dev.conveyor.api.ApiTests.client(port);
        kafkaRecordsBefore = jobRecordsOnKafka();
    }

    static Stream<Arguments> invalidSubmissions() {
        var big = "x".repeat(262_144);
        return Stream.of(
                Arguments.of("{}", "type", 400),
                Arguments.of("{\"type\": null}", "type", 400),
                Arguments.of("{\"type\": \"Echo\"}", "type", 400),
                Arguments.of("{\"type\": \"-echo\"}", "type", 400),
                Arguments.of("{\"type\": \"" + "a".repeat(101) + "\"}", "type", 400),
                Arguments.of("{\"type\": 5}", "type", 400),
                Arguments.of("{\"type\": \"echo\", \"queue\": \"Default\"}", "queue", 400),
                Arguments.of("{\"type\": \"echo\", \"queue\": \"a.b\"}", "queue", 400),
                Arguments.of("{\"type\": \"echo\", \"queue\": \"" + "q".repeat(65) + "\"}", "queue", 400),
                Arguments.of("{\"type\": \"echo\", \"payload\": [1, 2]}", "payload", 400),
                Arguments.of("{\"type\": \"echo\", \"payload\": \"text\"}", "payload", 400),
                Arguments.of("{\"type\": \"echo\", \"payload\": {\"s\": \"" + big + "\"}}", "payload", 413),
                Arguments.of("{\"type\": \"echo\", \"maxAttempts\": 0}", "maxAttempts", 400),
                Arguments.of("{\"type\": \"echo\", \"maxAttempts\": 101}", "maxAttempts", 400),
                Arguments.of("{\"type\": \"echo\", \"maxAttempts\": \"3\"}", "maxAttempts", 400),
                Arguments.of("{\"type\": \"echo\", \"maxAttempts\": 2.5}", "maxAttempts", 400),
                // not whole, though a double rounds them to one
                Arguments.of("{\"type\": \"echo\", \"maxAttempts\": 2.9999999999999999}", "maxAttempts", 400),
                Arguments.of("{\"type\": \"echo\", \"maxAttempts\": 0.99999999999999999}", "maxAttempts", 400),
                Arguments.of("{\"type\": \"echo\", \"timeoutSeconds\": 1.00000000000000001}", "timeoutSeconds", 400),
                Arguments.of("{\"type\": \"echo\", \"delaySeconds\": 0.9999999999999999999}", "delaySeconds", 400),
                Arguments.of("{\"type\": \"echo\", \"delaySeconds\": 1e-400}", "delaySeconds", 400),
                Arguments.of("{\"type\": \"echo\", \"delaySeconds\": 1e-2147483649}", "delaySeconds", 400),
                Arguments.of("{\"type\": \"echo\", \"delaySeconds\": 1e2147483648}", "delaySeconds", 400),
                Arguments.of("{\"type\": \"echo\", \"timeoutSeconds\": 0}", "timeoutSeconds", 400),
                Arguments.of("{\"type\": \"echo\", \"timeoutSeconds\": 86401}", "timeoutSeconds", 400),
                Arguments.of("{\"type\": \"echo\", \"runAt\": \"tomorrow\"}", "runAt", 400),
                Arguments.of("{\"type\": \"echo\", \"runAt\": 1764000000}", "runAt", 400),
                Arguments.of("{\"type\": \"echo\", \"delaySeconds\": -1}", "delaySeconds", 400),
                Arguments.of("{\"type\": \"echo\", \"delaySeconds\": 31536001}", "delaySeconds", 400),
                Arguments.of("{\"type\": \"echo\", \"delaySeconds\": 5, \"runAt\": \"2030-01-01T00:00:00Z\"}",
                        "delaySeconds", 400),
                Arguments.of("{\"type\": \"echo\", \"idempotencyKey\": \"\"}", "idempotencyKey", 400),
                Arguments.of("{\"type\": \"echo\", \"idempotencyKey\": \"" + "k".repeat(256) + "\"}",
                        "idempotencyKey", 400),
                Arguments.of("{\"type\": \"echo\", \"idempotencyKey\": \"a\\u0007b\"}", "idempotencyKey", 400),
                Arguments.of("{\"type\": \"echo\", \"idempotencyKey\": \"a\\u0085b\"}", "idempotencyKey", 400),
                Arguments.of("{\"type\": \"echo\", \"priority\": 1}", "priority", 400),
                // what PostgreSQL cannot store: NUL characters (jsonb, text), unpaired surrogates, huge instants
                Arguments.of("{\"type\": \"echo\", \"payload\": {\"s\": \"a\\u0000b\"}}", "payload.s", 400),
                Arguments.of("{\"type\": \"echo\", \"payload\": {\"a\": {\"b\": [\"x\", \"\\u0000\"]}}}",
                        "payload.a.b[1]", 400),
                Arguments.of("{\"type\": \"echo\", \"payload\": {\"a\": {\"k\\u0000\": 1}}}",
                        "payload.a.k\\u0000", 400),
                Arguments.of("{\"type\": \"echo\", \"payload\": {\"s\": \"\\ud800\"}}", "payload.s", 400),
                Arguments.of("{\"type\": \"echo\", \"payload\": {\"s\": \"a\\udc00b\"}}", "payload.s", 400),
                Arguments.of("{\"type\": \"echo\", \"payload\": {\"n\": 1e400}}", "payload.n", 400),
                Arguments.of("{\"type\": \"echo\", \"payload\": {\"n\": [-1e400]}}", "payload.n[0]", 400),
                // stored exactly, 1e-1000 would be 1,002 characters written out (jsonb, past 16,383 digits, fails)
                Arguments.of("{\"type\": \"echo\", \"payload\": {\"n\": 1e-1000}}", "payload.n", 400),
                Arguments.of("{\"type\": \"echo\", \"payload\": {\"n\": 1e-20000}}", "payload.n", 400),
                Arguments.of("{\"type\": \"echo\", \"payload\": {\"n\": 1e-2147483649}}", "payload.n", 400),
                // 1e300 is 301 bytes as jsonb writes it back: 1000 of them are over 256 KiB
                Arguments.of("{\"type\": \"echo\", \"payload\": {\"n\": ["
                        + String.join(",", java.util.Collections.nCopies(1000, "1e300")) + "]}}", "payload", 413),
                Arguments.of("{\"type\": \"echo\", \"payload\": {\"n\": " + "9".repeat(1001) + "}}", "body", 400),
                Arguments.of("{\"type\": \"echo\", \"idempotencyKey\": \"a\\u0000b\"}", "idempotencyKey", 400),
                Arguments.of("{\"type\": \"echo\", \"idempotencyKey\": \"a\\ud800\"}", "idempotencyKey", 400),
                Arguments.of("{\"type\": \"echo\", \"runAt\": \"+300000-01-01T00:00:00Z\"}", "runAt", 400),
                Arguments.of("{\"type\": \"echo\", \"runAt\": \"+294277-01-01T00:00:00Z\"}", "runAt", 400),
                Arguments.of("{\"type\": \"echo\", \"runAt\": \"+10000-01-01T00:00:00Z\"}", "runAt", 400),
                Arguments.of("{\"type\": \"echo\", \"queue\": \"nowhere\"}", "queue", 400),
                Arguments.of("[]", "body", 400),
                Arguments.of("{\"type\": ", "body", 400));
    }

    @ParameterizedTest(name = "{0} -> {2} naming {1}")
    @MethodSource("invalidSubmissions")
    void refusesAnInvalidSubmissionNamingTheField(String body, String field, int status) {
        var response = http.post("/v1/jobs", body);

        assertThat(response.status()).isEqualTo(status);
        assertThat(response.contentType()).startsWith("application/problem+json");
        var problem = response.json();
        assertThat(problem.get("status").asInt()).isEqualTo(status);
        assertThat(problem.get("type").asString()).isNotBlank();
        assertThat(problem.get("title").asString()).isNotBlank();
        assertThat(problem.get("detail").asString()).isNotBlank();
        assertThat(problem.get("errors").valueStream().map(e -> e.get("field").asString())).contains(field);
    }

    @Test
    void namesEveryBadFieldAtOnce() {
        var response = http.post("/v1/jobs", "{\"type\": \"Bad\", \"maxAttempts\": 0, \"extra\": true}");

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.json().get("errors").valueStream().map(e -> e.get("field").asString()))
                .containsExactlyInAnyOrder("type", "maxAttempts", "extra");
    }

    /**
     * A submission's body may hold one payload of {@code max-payload-bytes}, every character escaped, and not what a
     * batch may (64 MiB): 60 MiB of empty objects parsed held some 1.5 GB.
     */
    @Test
    void refusesASingleSubmissionLargerThanAnyPayloadCouldMake() {
        var limit = SubmitController.singleBodyLimit(properties);
        var items = String.join(",", java.util.Collections.nCopies(limit / 3 + 1, "{}"));
        var single = http.post("/v1/jobs", "{\"type\": \"echo\", \"payload\": {\"a\": [" + items + "]}}");
        var escaped = "\\u0041".repeat(262_000);
        // within it, read and judged on its fields (here one unknown, so that this class stores nothing)
        var withinIt = http.post("/v1/jobs", "{\"type\": \"echo\", \"payload\": {\"s\": \"" + escaped
                + "\"}, \"extra\": true}");

        assertThat(single.status()).isEqualTo(413);
        assertThat(single.json().get("detail").asString()).contains("larger than " + limit + " bytes");
        assertThat(withinIt.status()).isEqualTo(400);
        assertThat(withinIt.json().get("errors").get(0).get("field").asString()).isEqualTo("extra");
    }

    @Test
    void refusesAKeyInBothTheBodyAndTheHeader() {
        var response = http.post("/v1/jobs", "{\"type\": \"echo\", \"idempotencyKey\": \"a\"}", "application/json",
                "Idempotency-Key", "b");

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.json().get("errors").get(0).get("field").asString()).isEqualTo("idempotencyKey");
    }

    @Test
    void refusesABodyThatIsNotJson() {
        var response = http.post("/v1/jobs", "type=echo", "text/plain");

        assertThat(response.status()).isEqualTo(415);
        assertThat(response.contentType()).startsWith("application/problem+json");
    }

    static Stream<Arguments> bodiesDeclaredInAnotherCharset() {
        return Stream.of("ISO-8859-1", "iso-8859-1", "\"windows-1252\"", "US-ASCII", "utf-16")
                .flatMap(charset -> Stream.of("/v1/jobs", "/v1/jobs/batch").map(path -> Arguments.of(path, charset)));
    }

    /** The contract's bodies are UTF-8: one declared in another charset was read as UTF-8 all the same. */
    @ParameterizedTest(name = "{0} in charset {1} -> 415")
    @MethodSource("bodiesDeclaredInAnotherCharset")
    void refusesABodyDeclaredInAnotherCharset(String path, String charset) {
        var submission = "{\"type\": \"echo\", \"payload\": {\"s\": \"caf\u00e9\"}}";
        var body = path.endsWith("batch") ? "{\"jobs\": [" + submission + "]}" : submission;

        var response = http.post(path, body, "application/json; charset=" + charset);

        assertThat(response.status()).isEqualTo(415);
        assertThat(response.contentType()).startsWith("application/problem+json");
        assertThat(response.json().get("errors").valueStream().map(e -> e.get("field").asString()))
                .containsExactly("Content-Type");
        assertThat(response.json().get("detail").asString()).contains("UTF-8");
    }

    static Stream<Arguments> invalidBatches() {
        var item = "{\"type\": \"echo\"}";
        return Stream.of(
                Arguments.of("{}", "jobs"),
                Arguments.of("{\"jobs\": []}", "jobs"),
                Arguments.of("{\"jobs\": {}}", "jobs"),
                Arguments.of("{\"jobs\": [" + String.join(",", java.util.Collections.nCopies(1001, item)) + "]}",
                        "jobs"),
                Arguments.of("{\"jobs\": [" + item + "], \"extra\": 1}", "extra"),
                Arguments.of("{\"jobs\": [" + item + ", {\"type\": \"Bad\"}]}", "jobs[1].type"),
                Arguments.of("{\"jobs\": [" + item + ", " + item + ", {\"type\": \"echo\", \"maxAttempts\": 0}]}",
                        "jobs[2].maxAttempts"),
                Arguments.of("{\"jobs\": [7]}", "jobs[0]"),
                Arguments.of("{\"jobs\": [" + item + ", {\"type\": \"echo\", \"maxAttempts\": 2.9999999999999999}]}",
                        "jobs[1].maxAttempts"),
                Arguments.of("{\"jobs\": [" + item + ", " + item + ", " + item
                        + ", {\"type\": \"echo\", \"payload\": {\"s\": \"a\\u0000b\"}}]}", "jobs[3].payload.s"),
                Arguments.of("{\"jobs\": [" + item + ", " + item + ", {\"type\": \"echo\", \"queue\": \"nowhere\"}]}",
                        "jobs[2].queue"));
    }

    @ParameterizedTest(name = "{0} -> 400 naming {1}")
    @MethodSource("invalidBatches")
    void refusesAnInvalidBatchWhole(String body, String field) {
        var response = http.post("/v1/jobs/batch", body);

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.json().get("errors").valueStream().map(e -> e.get("field").asString())).contains(field);
    }

    static Stream<Arguments> invalidQueries() {
        return Stream.of(
                Arguments.of("/v1/jobs/not-a-uuid", "id"),
                // UUID.fromString reads each group with Long.parseLong, which takes a sign
                Arguments.of("/v1/jobs/+1a24a8e-b24c-7292-9d71-4477676b28c7", "id"),
                Arguments.of("/v1/jobs/-1a24a8e-b24c-7292-9d71-4477676b28c7", "id"),
                Arguments.of("/v1/jobs/01a24a8e-+24c-7292-9d71-4477676b28c7", "id"),
                Arguments.of("/v1/jobs/01a24a8e-b24c-7292-9d71-+477676b28c7", "id"),
                Arguments.of("/v1/jobs/01a24a8e-b24c-7292-9d71-4477676b28c\u0667", "id"),
                Arguments.of("/v1/jobs?after=" + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                        "+1a24a8e-b24c-7292-9d71-4477676b28c7".getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                        "after"),
                Arguments.of("/v1/jobs?limit=%2B5", "limit"),
                Arguments.of("/v1/jobs?limit=%D9%A3", "limit"),
                Arguments.of("/v1/jobs/019374b2-8c1e-7a7d-9f57-1c4b0b3e2a10?wait=61", "wait"),
                Arguments.of("/v1/jobs/019374b2-8c1e-7a7d-9f57-1c4b0b3e2a10?wait=-1", "wait"),
                Arguments.of("/v1/jobs/019374b2-8c1e-7a7d-9f57-1c4b0b3e2a10?wait=soon", "wait"),
                Arguments.of("/v1/jobs?limit=0", "limit"),
                Arguments.of("/v1/jobs?limit=501", "limit"),
                Arguments.of("/v1/jobs?status=DONE", "status"),
                Arguments.of("/v1/jobs?after=bm90LWEtdXVpZA", "after"),
                Arguments.of("/v1/jobs/019374b2-8c1e-7a7d-9f57-1c4b0b3e2a10?wait=1e400", "wait"),
                Arguments.of("/v1/jobs/019374b2-8c1e-7a7d-9f57-1c4b0b3e2a10?wait=NaN", "wait"),
                Arguments.of("/v1/jobs/019374b2-8c1e-7a7d-9f57-1c4b0b3e2a10?wait=Infinity", "wait"),
                Arguments.of("/v1/jobs/019374b2-8c1e-7a7d-9f57-1c4b0b3e2a10?wait=%00", "wait"),
                // what Double.parseDouble read as numbers: an exponent, a space, a type suffix, hexadecimal, a sign
                Arguments.of("/v1/jobs/019374b2-8c1e-7a7d-9f57-1c4b0b3e2a10?wait=1e1", "wait"),
                Arguments.of("/v1/jobs/019374b2-8c1e-7a7d-9f57-1c4b0b3e2a10?wait=%201", "wait"),
                Arguments.of("/v1/jobs/019374b2-8c1e-7a7d-9f57-1c4b0b3e2a10?wait=1d", "wait"),
                Arguments.of("/v1/jobs/019374b2-8c1e-7a7d-9f57-1c4b0b3e2a10?wait=0x1p3", "wait"),
                Arguments.of("/v1/jobs/019374b2-8c1e-7a7d-9f57-1c4b0b3e2a10?wait=%2B5", "wait"),
                Arguments.of("/v1/jobs?limit=99999999999999999999", "limit"),
                Arguments.of("/v1/jobs?limit=-1", "limit"),
                Arguments.of("/v1/jobs?limit=%00", "limit"),
                Arguments.of("/v1/jobs?type=a%00b", "type"),
                Arguments.of("/v1/jobs?type=", "type"),
                Arguments.of("/v1/jobs?queue=", "queue"),
                Arguments.of("/v1/jobs?status=", "status"),
                Arguments.of("/v1/jobs?queue=a%00b", "queue"),
                Arguments.of("/v1/jobs?status=a%00b", "status"),
                Arguments.of("/v1/jobs?after=%00", "after"),
                Arguments.of("/v1/jobs?after=_w", "after"),
                Arguments.of("/v1/jobs?after=", "after"));
    }

    @ParameterizedTest(name = "{0} -> 400 naming {1}")
    @MethodSource("invalidQueries")
    void refusesAnInvalidQueryNamingTheParameter(String path, String field) {
        var response = http.get(path);

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.contentType()).startsWith("application/problem+json");
        assertThat(response.json().get("errors").valueStream().map(e -> e.get("field").asString())).contains(field);
    }

    @Test
    void refusesAQueryThatIsNotUtf8() {
        var response = http.get("/v1/jobs?type=%ED%A0%80&queue=%FF");

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.contentType()).startsWith("application/problem+json");
        assertThat(response.json().get("errors").get(0).get("field").asString()).isEqualTo("query");
    }

    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"/v1/jobs/+1a24a8e-b24c-7292-9d71-4477676b28c7/cancel",
            "/v1/jobs/+1a24a8e-b24c-7292-9d71-4477676b28c7/retry",
            "/v1/jobs/01a24a8e-+24c-7292-9d71-4477676b28c7/cancel"})
    void refusesAnIdThatIsNotAUuidOnEveryRoute(String path) {
        var response = http.post(path, "");

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.json().get("errors").get(0).get("field").asString()).isEqualTo("id");
    }

    @Test
    void refusesANulInThePath() {
        // Tomcat refuses it before the api sees it, with a page of its own
        assertThat(http.get("/v1/jobs/%00").status()).isEqualTo(400);
    }

    @Test
    void refusesANulInTheIdempotencyKeyHeader() throws Exception {
        var body = "{\"type\": \"echo\"}";
        try (var socket = new java.net.Socket("localhost", port)) {
            var request = "POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Idempotency-Key: a\u0000b\r\nContent-Length: " + body.length() + "\r\nConnection: close\r\n\r\n"
                    + body;
            socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            var answer = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);

            assertThat(answer).startsWith("HTTP/1.1 400");
        }
    }

    /** Tomcat reads a header's bytes as ISO-8859-1: a UTF-8 key there would be stored as other characters. */
    @Test
    void refusesAKeyHeaderThatIsNotAscii() throws Exception {
        var body = "{\"type\": \"echo\"}";
        try (var socket = new java.net.Socket("localhost", port)) {
            var head = "POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Idempotency-Key: ";
            var rest = "\r\nContent-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body;
            var out = socket.getOutputStream();
            out.write(head.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.write("ключ".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            out.write(rest.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            var answer = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);

            assertThat(answer).startsWith("HTTP/1.1 400").contains("\"field\":\"Idempotency-Key\"")
                    .contains("printable ASCII");
        }
    }

    static Stream<Arguments> bodiesThatAreNotUtf8() {
        return Stream.of(
                // overlong forms, which a lenient decoder reads as 'e', '/' and NUL
                Arguments.of("/v1/jobs", "{\"type\":\"\u00c1\u00a5cho\",\"idempotencyKey\":\"\u00c0\u00afetc\"}"),
                Arguments.of("/v1/jobs", "{\"type\":\"echo\",\"payload\":{\"s\":\"\u00c0\u0080\"}}"),
                Arguments.of("/v1/jobs", "{\"type\":\"echo\",\"payload\":{\"s\":\"\u00e0\u0080\u00af\"}}"),
                Arguments.of("/v1/jobs", "{\"type\":\"echo\",\"payload\":{\"\u00f0\u0080\u0080\u00af\":1}}"),
                // a surrogate, past U+10FFFF, ISO-8859-1, a sequence cut short at the end
                Arguments.of("/v1/jobs", "{\"type\":\"echo\",\"payload\":{\"s\":\"\u00ed\u00a0\u0080\"}}"),
                Arguments.of("/v1/jobs", "{\"type\":\"echo\",\"payload\":{\"s\":\"\u00f4\u0090\u0080\u0080\"}}"),
                Arguments.of("/v1/jobs", "{\"type\":\"echo\",\"payload\":{\"s\":\"caf\u00e9\"}}"),
                Arguments.of("/v1/jobs", "{\"type\":\"echo\"}\u00e2\u0082"),
                Arguments.of("/v1/jobs/batch", "{\"jobs\":[{\"type\":\"echo\"},{\"type\":\"\u00c1\u00a5cho\"}]}"),
                Arguments.of("/v1/jobs/batch",
                        "{\"jobs\":[{\"type\":\"echo\",\"payload\":{\"s\":\"\u00c0\u0080\"}}]}"));
    }

    /** Each char of {@code body} is sent as one byte: {@code \u00c0\u00af} is the overlong '/', C0 AF. */
    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("bodiesThatAreNotUtf8")
    void refusesABodyThatIsNotUtf8NamingTheBody(String path, String body) throws Exception {
        var answer = postBytes(path, body.getBytes(StandardCharsets.ISO_8859_1), "Content-Type: application/json");

        assertThat(answer.status()).as(answer.text()).isEqualTo(400);
        assertThat(answer.problem().get("errors")).singleElement().satisfies(error -> {
            assertThat(error.get("field").asString()).isEqualTo("body");
            assertThat(error.get("message").asString()).contains("not valid UTF-8");
        });
    }

    static Stream<Arguments> bodiesWithAContentCoding() {
        return Stream.of("gzip", "br", "deflate", "x-gzip", "identity, gzip", "zstd")
                .flatMap(coding -> Stream.of("/v1/jobs", "/v1/jobs/batch").map(path -> Arguments.of(path, coding)));
    }

    /** RFC 9110 section 8.4: an origin server may answer 415 to a content coding it does not accept. */
    @ParameterizedTest(name = "{0} with Content-Encoding: {1} -> 415")
    @MethodSource("bodiesWithAContentCoding")
    void refusesABodyWithAContentCoding(String path, String coding) {
        var body = path.endsWith("batch") ? "{\"jobs\": [{\"type\": \"echo\"}]}" : "{\"type\": \"echo\"}";

        var response = http.post(path, body, "application/json", "Content-Encoding", coding);

        assertThat(response.status()).isEqualTo(415);
        assertThat(response.contentType()).startsWith("application/problem+json");
        assertThat(response.header("Accept-Encoding")).isEqualTo("identity");
        assertThat(response.json().get("errors").get(0).get("field").asString()).isEqualTo("Content-Encoding");
    }

    @Test
    void refusesAGzippedBodyAsAContentCodingNotAsBadJson() throws Exception {
        var gzipped = new java.io.ByteArrayOutputStream();
        try (var out = new java.util.zip.GZIPOutputStream(gzipped)) {
            out.write("{\"type\": \"echo\"}".getBytes(StandardCharsets.UTF_8));
        }

        var answer = postBytes("/v1/jobs", gzipped.toByteArray(), "Content-Type: application/json",
                "Content-Encoding: gzip");

        assertThat(answer.status()).as(answer.text()).isEqualTo(415);
        assertThat(answer.problem().get("errors").get(0).get("field").asString()).isEqualTo("Content-Encoding");
    }

    /** Servlet containers join a header sent twice with commas: two keys became the key "k1,k2". */
    @Test
    void refusesTwoIdempotencyKeys() throws Exception {
        var answer = postBytes("/v1/jobs", "{\"type\": \"echo\"}".getBytes(StandardCharsets.UTF_8),
                "Content-Type: application/json", "Idempotency-Key: k1", "Idempotency-Key: k2");

        assertThat(answer.status()).as(answer.text()).isEqualTo(400);
        assertThat(answer.problem().get("errors").get(0).get("field").asString()).isEqualTo("Idempotency-Key");
        assertThat(answer.problem().get("errors").get(0).get("message").asString()).contains("more than once");
    }

    @Test
    void refusesTwoContentTypes() throws Exception {
        for (var path : java.util.List.of("/v1/jobs", "/v1/jobs/batch")) {
            var body = path.endsWith("batch") ? "{\"jobs\": [{\"type\": \"echo\"}]}" : "{\"type\": \"echo\"}";
            var answer = postBytes(path, body.getBytes(StandardCharsets.UTF_8), "Content-Type: application/json",
                    "Content-Type: application/json; charset=ISO-8859-1");

            assertThat(answer.status()).as(answer.text()).isEqualTo(400);
            assertThat(answer.problem().get("errors").get(0).get("field").asString()).isEqualTo("Content-Type");
        }
    }

    /** Unknown fields were all named: a body of 1.9 MB of them was answered with 10 MB. */
    @Test
    void aBodyOfManyUnknownFieldsIsAnsweredSmall() {
        var fields = new StringBuilder();
        for (var i = 0; i < 100_000; i++) {
            fields.append(",\"f").append(i).append("\": 1");
        }
        var response = http.post("/v1/jobs", "{\"type\": \"Bad\"" + fields + "}");

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.text().length()).isLessThan(4_000);
        assertThat(response.json().get("errors").size()).isEqualTo(10);
        assertThat(response.json().get("detail").asString()).startsWith("100001 fields are invalid")
                .contains("99991 more");
    }

    @Test
    void aBatchOfManyBadItemsIsAnsweredSmall() {
        var item = new StringBuilder("{\"type\": \"Bad\"");
        for (var i = 0; i < 200; i++) {
            item.append(",\"f").append(i).append("\": 1");
        }
        item.append('}');
        var body = "{\"jobs\": [" + String.join(",", java.util.Collections.nCopies(1000, item)) + "]"
                + ", \"a\": 1, \"b\": 2}";

        var response = http.post("/v1/jobs/batch", body);

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.text().length()).isLessThan(20_000);
        var errors = response.json().get("errors");
        assertThat(errors.size()).isEqualTo(100);
        assertThat(errors.get(0).get("field").asString()).isEqualTo("a");
        assertThat(errors.get(2).get("field").asString()).isEqualTo("jobs[0].type");
        assertThat(response.json().get("detail").asString()).startsWith("201002 fields are invalid")
                .contains("200902 more");
    }

    @Test
    void aLongUnknownFieldIsNamedCutShort() {
        var name = "x".repeat(10_000);
        var response = http.post("/v1/jobs", "{\"type\": \"echo\", \"" + name + "\": 1}");

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.text().length()).isLessThan(1_000);
        assertThat(response.json().get("errors").get(0).get("field").asString()).startsWith("xxx").endsWith("\u2026")
                .hasSizeLessThan(100);
    }

    /** An answer to a request written byte by byte. */
    private record RawAnswer(int status, String text) {

        JsonNode problem() {
            return Json.tree(text.substring(text.indexOf('{'), text.lastIndexOf('}') + 1));
        }
    }

    /** A POST of bytes no HTTP client would send as they are (not UTF-8, a header twice), on a socket of its own. */
    private RawAnswer postBytes(String path, byte[] body, String... headerLines) throws Exception {
        try (var socket = new java.net.Socket("localhost", port)) {
            var head = new StringBuilder("POST ").append(path).append(" HTTP/1.1\r\nHost: localhost\r\n");
            for (var line : headerLines) {
                head.append(line).append("\r\n");
            }
            head.append("Content-Length: ").append(body.length).append("\r\nConnection: close\r\n\r\n");
            var out = socket.getOutputStream();
            out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.write(body);
            var answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            var headEnd = answer.indexOf("\r\n\r\n");
            return new RawAnswer(Integer.parseInt(answer.substring(9, 12)), answer.substring(headEnd + 4));
        }
    }

    @AfterAll
    void nothingWasStoredOrPublished() throws Exception {
        assertThat(jdbc.sql("SELECT count(*) FROM jobs").query(Long.class).single()).isZero();
        assertThat(jobRecordsOnKafka()).isEqualTo(kafkaRecordsBefore);
    }

    private long jobRecordsOnKafka() throws Exception {
        var topics = admin.listTopics().names().get().stream().filter(t -> t.startsWith(Topics.JOBS_PREFIX)).toList();
        if (topics.isEmpty()) {
            return 0;
        }
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        admin.describeTopics(topics).allTopicNames().get().forEach((name, description) ->
                description.partitions().forEach(p -> request.put(new TopicPartition(name, p.partition()),
                        OffsetSpec.latest())));
        return admin.listOffsets(request).all().get().values().stream().mapToLong(o -> o.offset()).sum();
    }
}
