package dev.conveyor.api.submit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.Json;
import dev.conveyor.common.test.HttpJson;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JacksonModule;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Submitting jobs as the contract says, with no worker running (so jobs stay where dispatch leaves them). */
@ApiTest
class SubmitTest {

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
    }

    @LocalServerPort
    int port;
    @Autowired
    JdbcClient jdbc;
    @Autowired
    JsonMapper mapper;

    HttpJson http;

    @BeforeEach
    void client() {
        http = ApiTests.client(port);
    }

    private long rows(String key) {
        return jdbc.sql("SELECT count(*) FROM jobs WHERE idempotency_key = :key").param("key", key)
                .query(Long.class).single();
    }

    @Nested
    class Single {

        /** Numbers are stored exactly (jsonb's numeric); read as doubles, 0.1000000000000000000001 came back 0.1. */
        @Test
        void aPayloadsNumbersAreKeptAndAnsweredExactly() {
            var created = http.post("/v1/jobs",
                    "{\"type\": \"echo\", \"payload\": {\"x\": 0.1000000000000000000001, \"y\": 1.50}}");
            var id = created.json().get("id").asString();

            var read = http.get("/v1/jobs/" + id);

            assertThat(created.status()).isEqualTo(202);
            assertThat(created.text()).contains("\"x\":0.1000000000000000000001", "\"y\":1.50");
            assertThat(read.text()).contains("0.1000000000000000000001", "1.50");
            assertThat(jdbc.sql("SELECT payload->>'x' FROM jobs WHERE id = :id::uuid").param("id", id)
                    .query(String.class).single()).isEqualTo("0.1000000000000000000001");
        }

        @Test
        void answers202WithTheJobAndItsLocation() {
            var before = Instant.now().minusSeconds(1);
            var response = http.post("/v1/jobs", "{\"type\": \"echo\", \"payload\": {\"a\": 1}}");

            assertThat(response.status()).isEqualTo(202);
            var job = response.json();
            assertThat(response.header("Location")).isEqualTo("/v1/jobs/" + job.get("id").asString());
            assertThat(UUID.fromString(job.get("id").asString()).version()).isEqualTo(7);
            assertThat(job.get("type").asString()).isEqualTo("echo");
            assertThat(job.get("queue").asString()).isEqualTo("default");
            assertThat(job.get("status").asString()).isEqualTo("QUEUED");
            assertThat(job.get("payload")).isEqualTo(Json.tree("{\"a\": 1}"));
            assertThat(job.get("attempts").asInt()).isZero();
            assertThat(job.get("maxAttempts").asInt()).isEqualTo(3);
            assertThat(job.get("timeoutSeconds").asInt()).isEqualTo(300);
            assertThat(job.get("error").isNull()).isTrue();
            assertThat(job.get("result").isNull()).isTrue();
            assertThat(Instant.parse(job.get("createdAt").asString())).isAfter(before);
            assertThat(job.get("runAt").asString()).isEqualTo(job.get("createdAt").asString());
        }

        @Test
        void aBodyDeclaredAsUtf8InAnySpellingIsTaken() {
            for (var contentType : List.of("application/json; charset=utf-8", "application/json;charset=\"UTF-8\"",
                    "application/json; charset=utf8")) {
                var response = http.post("/v1/jobs", "{\"type\": \"echo\", \"payload\": {\"s\": \"caf\u00e9\"}}",
                        contentType);

                assertThat(response.status()).as(contentType).isEqualTo(202);
                assertThat(response.json().get("payload").get("s").asString()).isEqualTo("caf\u00e9");
            }
        }

        @Test
        void aBodyWithTheIdentityCodingIsTaken() {
            var response = http.post("/v1/jobs", "{\"type\": \"echo\"}", "application/json", "Content-Encoding",
                    "identity");

            assertThat(response.status()).isEqualTo(202);
        }

        /** UUID.fromString took a sign in a group: +1a24a8e-... read as the id 01a24a8e-... */
        @Test
        void anIdWithASignIsNotTheJobWithoutIt() {
            var id = http.post("/v1/jobs", "{\"type\": \"echo\", \"delaySeconds\": 3600}").json().get("id").asString();
            assertThat(id).startsWith("0");
            var signed = "+" + id.substring(1);

            assertThat(http.get("/v1/jobs/" + signed).status()).isEqualTo(400);
            assertThat(http.post("/v1/jobs/" + signed + "/cancel", "").status()).isEqualTo(400);
            assertThat(http.get("/v1/jobs/" + id).json().get("status").asString()).isEqualTo("SCHEDULED");
        }

        @Test
        void writesInstantsAsInstantDoesWithoutTheFormatter() {
            var job = http.post("/v1/jobs", "{\"type\": \"echo\"}").json();

            var createdAt = job.get("createdAt").asString();
            assertThat(createdAt).isEqualTo(Instant.parse(createdAt).toString());
            assertThat(mapper.registeredModules()).extracting(JacksonModule::getModuleName)
                    .contains(Json.instantText().getModuleName());
        }

        /**
         * The deepest payload taken is still listed: {@code GET /v1/jobs} wraps it in three more levels, and one
         * nested 499 deep (the most a request could carry) made every page holding it fail to be written.
         */
        @Test
        void theDeepestPayloadTakenIsListedAndOneLevelMoreIsRefused() {
            var deepest = "{\"a\":".repeat(Storable.MAX_DEPTH - 1) + "1" + "}".repeat(Storable.MAX_DEPTH - 1);
            var tooDeep = "[".repeat(Storable.MAX_DEPTH) + "]".repeat(Storable.MAX_DEPTH);

            var taken = http.post("/v1/jobs", "{\"type\": \"deep-echo\", \"payload\": {\"d\": " + deepest + "}}");
            var refused = http.post("/v1/jobs", "{\"type\": \"echo\", \"payload\": {\"d\": " + tooDeep + "}}");
            var listed = http.get("/v1/jobs?type=deep-echo");

            assertThat(taken.status()).isEqualTo(202);
            assertThat(listed.status()).isEqualTo(200);
            assertThat(listed.json().get("jobs").valueStream().map(job -> job.get("id").asString()))
                    .contains(taken.json().get("id").asString());
            assertThat(refused.status()).isEqualTo(400);
            assertThat(refused.json().get("errors").get(0).get("field").asString())
                    .startsWith("payload.d[0]").endsWith("[0]");
            assertThat(refused.json().get("errors").get(0).get("message").asString())
                    .contains("at most " + Storable.MAX_DEPTH);
        }

        /** Spring flushes a ResponseEntity before the handler returns; the answer must still leave whole. */
        @Test
        void answersWholeWithAContentLengthNotChunked() {
            var accepted = http.post("/v1/jobs", "{\"type\": \"echo\"}");
            var refused = http.post("/v1/jobs", "{\"type\": \"\"}");

            assertThat(accepted.status()).isEqualTo(202);
            assertThat(refused.status()).isEqualTo(400);
            for (var response : List.of(accepted, refused)) {
                assertThat(response.headers().firstValue("Content-Length"))
                        .hasValue(Integer.toString(response.text().getBytes(StandardCharsets.UTF_8).length));
                assertThat(response.headers().firstValue("Transfer-Encoding")).isEmpty();
            }
        }

        /**
         * Every body is JSON: a client that asks for HTML still learns that its job was stored (a 406 after the
         * insert would make it send the job again).
         */
        @Test
        void aSubmissionThatAcceptsOnlyHtmlIsAnsweredWithItsStoredJobAsJson() {
            var key = "accepts-html-" + UUID.randomUUID();
            var response = http.post("/v1/jobs", "{\"type\": \"echo\"}", "application/json",
                    "Accept", "text/html", "Idempotency-Key", key);

            assertThat(response.status()).isEqualTo(202);
            assertThat(response.contentType()).isEqualTo("application/json");
            var id = response.json().get("id").asString();
            assertThat(response.header("Location")).isEqualTo("/v1/jobs/" + id);
            assertThat(rows(key)).isEqualTo(1);

            var again = http.post("/v1/jobs", "{\"type\": \"echo\"}", "application/json",
                    "Accept", "text/html", "Idempotency-Key", key);
            assertThat(again.status()).isEqualTo(200);
            assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
            assertThat(again.json().get("id").asString()).isEqualTo(id);

            var read = http.get("/v1/jobs/" + id, "Accept", "text/html");
            assertThat(read.status()).isEqualTo(200);
            assertThat(read.contentType()).isEqualTo("application/json");
            assertThat(read.json().get("id").asString()).isEqualTo(id);
        }

        @Test
        void aCancelAndARetryThatAcceptOnlyHtmlAreAnsweredWithTheChangedJobAsJson() {
            var id = http.post("/v1/jobs", "{\"type\": \"echo\", \"delaySeconds\": 3600}").json().get("id").asString();

            var cancelled = http.post("/v1/jobs/" + id + "/cancel", "", "application/json", "Accept", "text/html");
            assertThat(cancelled.status()).isEqualTo(202);
            assertThat(cancelled.contentType()).isEqualTo("application/json");
            assertThat(cancelled.json().get("status").asString()).isEqualTo("CANCELLED");

            var retried = http.post("/v1/jobs/" + id + "/retry", "", "application/json", "Accept", "text/html");
            assertThat(retried.status()).isEqualTo(202);
            assertThat(retried.contentType()).isEqualTo("application/json");
            assertThat(retried.json().get("id").asString()).isEqualTo(id);
            assertThat(retried.json().get("status").asString()).isIn("QUEUED", "RUNNING", "SUCCEEDED");
        }

        @Test
        void aJobToRunLaterIsScheduled() {
            var job = http.post("/v1/jobs", "{\"type\": \"echo\", \"runAt\": \"2099-01-01T00:00:00+01:00\"}").json();

            assertThat(job.get("status").asString()).isEqualTo("SCHEDULED");
            assertThat(job.get("runAt").asString()).isEqualTo("2098-12-31T23:00:00Z");
        }

        @Test
        void aRunAtOnALeapSecondIsTheSecondBefore() {
            var job = http.post("/v1/jobs", "{\"type\": \"echo\", \"runAt\": \"2098-12-31T23:59:60.5Z\"}").json();

            assertThat(job.get("status").asString()).isEqualTo("SCHEDULED");
            assertThat(job.get("runAt").asString()).isEqualTo("2098-12-31T23:59:59.500Z");
        }

        @Test
        void aRunAtInThePastMeansNow() {
            var job = http.post("/v1/jobs", "{\"type\": \"echo\", \"runAt\": \"2001-01-01T00:00:00Z\"}").json();

            assertThat(job.get("status").asString()).isEqualTo("QUEUED");
            assertThat(job.get("runAt").asString()).isEqualTo(job.get("createdAt").asString());
        }

        @Test
        void aRunAtBeforeAnyTimestampTheStoreKeepsMeansNow() {
            var response = http.post("/v1/jobs", "{\"type\": \"echo\", \"runAt\": \"-4714-11-24T00:00:00Z\"}");

            assertThat(response.status()).isEqualTo(202);
            assertThat(response.json().get("status").asString()).isEqualTo("QUEUED");
        }

        @Test
        void aRunAtAtTheEndOfTheYear9999IsScheduled() {
            var job = http.post("/v1/jobs", "{\"type\": \"echo\", \"runAt\": \"9999-12-31T23:59:59.999Z\"}").json();

            assertThat(job.get("status").asString()).isEqualTo("SCHEDULED");
            assertThat(http.get("/v1/jobs/" + job.get("id").asString()).json().get("runAt").asString())
                    .isEqualTo("9999-12-31T23:59:59.999Z");
        }

        @Test
        void storesHugeIntegersAndUnicodeBeyondTheBasicPlaneFaithfully() {
            var huge = "-" + "9".repeat(999);
            var payload = "{\"huge\": " + huge + ", \"max\": 1.7976931348623157e308, \"tiny\": 4.9e-324, "
                    + "\"emoji\": \"\\ud83d\\ude00\", \"\\ud83d\\ude00\": true}";
            var job = http.post("/v1/jobs", "{\"type\": \"echo\", \"payload\": " + payload + "}").json();

            // jsonb keeps numbers as numeric: 1.7976931348623157e308 comes back written out in 309 digits
            var stored = http.get("/v1/jobs/" + job.get("id").asString()).json().get("payload");
            assertThat(stored.get("huge").bigIntegerValue()).isEqualTo(new java.math.BigInteger(huge));
            assertThat(stored.get("max").doubleValue()).isEqualTo(Double.MAX_VALUE);
            assertThat(stored.get("tiny").doubleValue()).isEqualTo(Double.MIN_VALUE);
            assertThat(stored.get("emoji").asString()).isEqualTo("\uD83D\uDE00");
            assertThat(stored.get("\uD83D\uDE00").asBoolean()).isTrue();
        }

        @Test
        void aDelayPutsRunAtThatFarAhead() {
            var job = http.post("/v1/jobs", "{\"type\": \"echo\", \"delaySeconds\": 3600}").json();

            assertThat(job.get("status").asString()).isEqualTo("SCHEDULED");
            assertThat(Duration.between(Instant.parse(job.get("createdAt").asString()),
                    Instant.parse(job.get("runAt").asString()))).isEqualTo(Duration.ofHours(1));
        }

        @Test
        void pollingAnUnknownJobIs404() {
            var response = http.get("/v1/jobs/" + UUID.randomUUID());

            assertThat(response.status()).isEqualTo(404);
            assertThat(response.contentType()).startsWith("application/problem+json");
        }

        @Test
        void waitingOnAJobThatDoesNotEndAnswersItsStateWhenTheTimeIsUp() {
            var job = http.post("/v1/jobs", "{\"type\": \"echo\", \"queue\": \"nobody-listens\"}").json();

            var response = http.get("/v1/jobs/" + job.get("id").asString() + "?wait=0.5");

            assertThat(response.status()).isEqualTo(200);
            assertThat(response.json().get("status").asString()).isEqualTo("QUEUED");
        }
    }

    @Nested
    class Idempotency {

        @Test
        void theSameKeyAndRequestReplaysTheFirstJob() {
            var body = "{\"type\": \"echo\", \"payload\": {\"x\": 1, \"y\": 2}, \"idempotencyKey\": \"same-1\"}";
            var first = http.post("/v1/jobs", body);
            var again = http.post("/v1/jobs",
                    "{\"idempotencyKey\": \"same-1\", \"payload\": {\"y\": 2, \"x\": 1}, \"type\": \"echo\"}");

            assertThat(first.status()).isEqualTo(202);
            assertThat(again.status()).isEqualTo(200);
            assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
            assertThat(again.json().get("id")).isEqualTo(first.json().get("id"));
            assertThat(rows("same-1")).isEqualTo(1);
        }

        @Test
        void theKeyMayComeInTheHeader() {
            var first = http.post("/v1/jobs", "{\"type\": \"echo\"}", "application/json", "Idempotency-Key", "hdr-1");
            var again = http.post("/v1/jobs", "{\"type\": \"echo\"}", "application/json", "Idempotency-Key", "hdr-1");

            assertThat(first.status()).isEqualTo(202);
            assertThat(first.json().get("idempotencyKey").asString()).isEqualTo("hdr-1");
            assertThat(again.status()).isEqualTo(200);
            assertThat(again.json().get("id")).isEqualTo(first.json().get("id"));
        }

        @Test
        void theSameKeyWithADifferentRequestIsAConflict() {
            http.post("/v1/jobs", "{\"type\": \"echo\", \"payload\": {\"x\": 1}, \"idempotencyKey\": \"diff-1\"}");
            var other = http.post("/v1/jobs",
                    "{\"type\": \"echo\", \"payload\": {\"x\": 2}, \"idempotencyKey\": \"diff-1\"}");

            assertThat(other.status()).isEqualTo(409);
            assertThat(other.contentType()).startsWith("application/problem+json");
            assertThat(rows("diff-1")).isEqualTo(1);
        }

        /** Payloads are stored exactly, so keys compare them so: read as doubles, these two were one request. */
        @Test
        void payloadsThatDifferPastADoublesDigitsAreDifferentRequestsAndTrailingZerosAreNot() {
            var first = http.post("/v1/jobs", "{\"type\": \"echo\", \"payload\": {\"x\": 0.1000000000000000000001},"
                    + " \"idempotencyKey\": \"exact-1\"}");
            var other = http.post("/v1/jobs", "{\"type\": \"echo\", \"payload\": {\"x\": 0.1000000000000000000002},"
                    + " \"idempotencyKey\": \"exact-1\"}");
            var same = http.post("/v1/jobs", "{\"type\": \"echo\", \"payload\": {\"x\": 0.10000000000000000000010},"
                    + " \"idempotencyKey\": \"exact-1\"}");

            assertThat(first.status()).isEqualTo(202);
            assertThat(other.status()).isEqualTo(409);
            assertThat(same.status()).isEqualTo(200);
            assertThat(same.json().get("id")).isEqualTo(first.json().get("id"));
            assertThat(rows("exact-1")).isEqualTo(1);
        }

        /** A key stored before numbers were compared exactly holds the hash of the request read with doubles. */
        @Test
        void aKeyStoredBeforeExactNumbersIsStillReplayed() {
            var first = http.post("/v1/jobs", "{\"type\": \"echo\", \"payload\": {\"x\": 2.5},"
                    + " \"idempotencyKey\": \"legacy-1\"}");
            var legacy = jdbc.sql("SELECT request_hash FROM jobs WHERE idempotency_key = 'legacy-1'")
                    .query(String.class).single();
            assertThat(legacy).startsWith(RequestHash.EXACT);
            // as the api before this one stored it: the request hashed with its numbers read as doubles
            var canonical = "{\"payload\":{\"x\":2.5},\"type\":\"echo\"}";
            jdbc.sql("UPDATE jobs SET request_hash = :hash WHERE idempotency_key = 'legacy-1'")
                    .param("hash", sha256(canonical)).update();

            var again = http.post("/v1/jobs", "{\"type\": \"echo\", \"payload\": {\"x\": 2.50},"
                    + " \"idempotencyKey\": \"legacy-1\"}");
            var other = http.post("/v1/jobs", "{\"type\": \"echo\", \"payload\": {\"x\": 2.6},"
                    + " \"idempotencyKey\": \"legacy-1\"}");

            assertThat(again.status()).isEqualTo(200);
            assertThat(again.json().get("id")).isEqualTo(first.json().get("id"));
            assertThat(other.status()).isEqualTo(409);
        }

        private static String sha256(String text) {
            try {
                return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                        .digest(text.getBytes(StandardCharsets.UTF_8)));
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        @Test
        void concurrentRequestsWithOneKeyMakeOneJob() throws Exception {
            var body = "{\"type\": \"echo\", \"idempotencyKey\": \"race-1\"}";
            var ids = new ArrayList<String>();
            try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
                var futures = new ArrayList<java.util.concurrent.Future<HttpJson.Response>>();
                for (var i = 0; i < 20; i++) {
                    futures.add(threads.submit(() -> http.post("/v1/jobs", body)));
                }
                for (var future : futures) {
                    var response = future.get();
                    assertThat(response.status()).isIn(200, 202);
                    ids.add(response.json().get("id").asString());
                }
            }
            assertThat(ids).containsOnly(ids.getFirst());
            assertThat(rows("race-1")).isEqualTo(1);
        }
    }

    @Nested
    class Batch {

        @Test
        void answersTheJobsInRequestOrder() {
            var response = http.post("/v1/jobs/batch", """
                    {"jobs": [{"type": "echo", "payload": {"i": 0}},
                              {"type": "sleep", "queue": "other", "payload": {"ms": 1}},
                              {"type": "echo", "delaySeconds": 60}]}""");

            assertThat(response.status()).isEqualTo(202);
            var jobs = response.json().get("jobs");
            assertThat(jobs.size()).isEqualTo(3);
            assertThat(jobs.get(0).get("payload")).isEqualTo(Json.tree("{\"i\": 0}"));
            assertThat(jobs.get(1).get("queue").asString()).isEqualTo("other");
            assertThat(jobs.get(2).get("status").asString()).isEqualTo("SCHEDULED");
            assertThat(response.headers().firstValue("Content-Length"))
                    .hasValue(Integer.toString(response.text().getBytes(StandardCharsets.UTF_8).length));
        }

        /**
         * A batch of 24 MiB whose one payload is empty objects: read as a tree it took some 25 times its size (a
         * 64 MiB body ran the api out of memory: a 500, and any request of that moment could fail with it); read
         * item by item, the payload is measured and refused, and the jobs beside it are named with it.
         */
        @Test
        void aBatchWithAHugePayloadIsA413NamingIt() {
            var huge = "{\"type\": \"echo\", \"payload\": {\"a\": [" + "{},".repeat(8_000_000) + "{}]}}";
            var response = http.post("/v1/jobs/batch", "{\"jobs\": [{\"type\": \"echo\"}, " + huge + "]}");

            assertThat(response.status()).isEqualTo(413);
            assertThat(response.json().get("errors")).singleElement().satisfies(error -> {
                assertThat(error.get("field").asString()).isEqualTo("jobs[1].payload");
                assertThat(error.get("message").asString()).contains("is 24000010 bytes");
            });
        }

        @Test
        void moreAfterTheBodysOneValueIsA400() {
            for (var path : List.of("/v1/jobs", "/v1/jobs/batch")) {
                var body = path.endsWith("batch") ? "{\"jobs\": [{\"type\": \"echo\"}]} {}" : "{\"type\": \"echo\"} []";
                var response = http.post(path, body);

                assertThat(response.status()).as(path).isEqualTo(400);
                assertThat(response.json().get("errors").get(0).get("field").asString()).isEqualTo("body");
            }
        }

        @Test
        void aBatchThatAcceptsOnlyHtmlIsAnsweredWithItsStoredJobsAsJson() {
            var key = "batch-accepts-html-" + UUID.randomUUID();
            var response = http.post("/v1/jobs/batch", "{\"jobs\": [{\"type\": \"echo\", \"idempotencyKey\": \""
                    + key + "\"}]}", "application/json", "Accept", "text/html");

            assertThat(response.status()).isEqualTo(202);
            assertThat(response.contentType()).isEqualTo("application/json");
            assertThat(response.json().get("jobs").get(0).get("idempotencyKey").asString()).isEqualTo(key);
            assertThat(rows(key)).isEqualTo(1);
        }

        @Test
        void aKeyUsedForAnotherRequestRefusesTheWholeBatch() {
            http.post("/v1/jobs", "{\"type\": \"echo\", \"idempotencyKey\": \"batch-k\"}");
            var response = http.post("/v1/jobs/batch", """
                    {"jobs": [{"type": "echo", "idempotencyKey": "batch-fresh"},
                              {"type": "sleep", "idempotencyKey": "batch-k"}]}""");

            assertThat(response.status()).isEqualTo(409);
            assertThat(rows("batch-fresh")).isZero();
        }

        /** The conflict named the first item's job, which the rollback had never let exist. */
        @Test
        void aKeyGivenTwiceInABatchForDifferentRequestsNamesBothItems() {
            var response = http.post("/v1/jobs/batch", """
                    {"jobs": [{"type": "echo", "idempotencyKey": "batch-twice"},
                              {"type": "echo", "idempotencyKey": "batch-other"},
                              {"type": "sleep", "idempotencyKey": "batch-twice"}]}""");

            assertThat(response.status()).isEqualTo(409);
            var detail = response.json().get("detail").asString();
            assertThat(detail).contains("jobs[2]", "jobs[0]", "batch-twice", "nothing was stored")
                    .doesNotContainPattern("[0-9a-f]{8}-[0-9a-f]{4}-");
            assertThat(rows("batch-twice")).isZero();
            assertThat(rows("batch-other")).isZero();
        }

        @Test
        void aKeyUsedForTheSameRequestAnswersTheEarlierJob() {
            var first = http.post("/v1/jobs", "{\"type\": \"echo\", \"idempotencyKey\": \"batch-same\"}").json();
            var response = http.post("/v1/jobs/batch", """
                    {"jobs": [{"type": "echo", "idempotencyKey": "batch-same"}, {"type": "echo"}]}""");

            assertThat(response.status()).isEqualTo(202);
            assertThat(response.json().get("jobs").get(0).get("id")).isEqualTo(first.get("id"));
        }
    }

    @Nested
    class Listing {

        @Test
        void pagesThroughAFilteredListNewestFirst() {
            var ids = new ArrayList<String>();
            for (var i = 0; i < 5; i++) {
                ids.add(http.post("/v1/jobs", "{\"type\": \"listed\", \"queue\": \"list-q\"}").json().get("id")
                        .asString());
            }
            http.post("/v1/jobs", "{\"type\": \"other\", \"queue\": \"list-q\"}");

            var first = http.get("/v1/jobs?queue=list-q&type=listed&limit=3").json();
            var second = http.get("/v1/jobs?queue=list-q&type=listed&limit=3&after="
                    + first.get("next").asString()).json();

            var seen = new ArrayList<String>();
            first.get("jobs").forEach(j -> seen.add(j.get("id").asString()));
            second.get("jobs").forEach(j -> seen.add(j.get("id").asString()));
            assertThat(seen).containsExactlyElementsOf(ids.reversed());
            assertThat(second.get("next").isNull()).isTrue();
        }

        /**
         * 45 jobs of 200 KiB payloads, listed 100 at a time: a page stops at about 8 MiB of JSON (a page of 500 jobs
         * with the largest payloads and results took 640 MB in the api), and its cursor goes on from there.
         */
        @Test
        void aPageOfLargeJobsStopsAtItsBytesAndGoesOnFromThere() {
            var item = "{\"type\": \"large-page\", \"payload\": {\"s\": \"" + "x".repeat(200 * 1024)
                    + "\"}}";
            var ids = new ArrayList<String>();
            var stored = http.post("/v1/jobs/batch", "{\"jobs\": [" + String.join(",",
                    java.util.Collections.nCopies(45, item)) + "]}");
            assertThat(stored.status()).as(stored.text()).isEqualTo(202);
            stored.json().get("jobs").forEach(job -> ids.add(job.get("id").asString()));

            var first = http.get("/v1/jobs?type=large-page&limit=100").json();
            var second = http.get("/v1/jobs?type=large-page&limit=100&after=" + first.get("next").asString()).json();

            var onFirst = first.get("jobs").size();
            assertThat(onFirst).isBetween(40, 41); // 8 MiB of 200 KiB payloads, the one that passes it included
            var seen = new ArrayList<String>();
            first.get("jobs").forEach(j -> seen.add(j.get("id").asString()));
            second.get("jobs").forEach(j -> seen.add(j.get("id").asString()));
            assertThat(seen).containsExactlyInAnyOrderElementsOf(ids).doesNotHaveDuplicates();
            assertThat(second.get("next").isNull()).isTrue();
        }

        /**
         * Every body is JSON, the list's too: asked for YAML (which the api can write, for its OpenAPI document), the
         * list was a 500, its payloads being JSON as PostgreSQL wrote them; asked for HTML, a 406.
         */
        @Test
        void aListThatAcceptsOnlyYamlOrHtmlIsAnsweredAsJson() {
            var id = http.post("/v1/jobs", "{\"type\": \"yaml-listed\", \"payload\": {\"a\": [1, 2.5]}}").json()
                    .get("id").asString();

            for (var accept : List.of("application/yaml", "text/html", "application/json;q=0, application/yaml")) {
                var listed = http.get("/v1/jobs?type=yaml-listed", "Accept", accept);

                assertThat(listed.status()).as(accept + ": " + listed.text()).isEqualTo(200);
                assertThat(listed.contentType()).isEqualTo("application/json");
                assertThat(listed.json().get("jobs").get(0).get("id").asString()).isEqualTo(id);
                assertThat(listed.json().get("jobs").get(0).get("payload").toString()).isEqualTo("{\"a\":[1,2.5]}");
            }
        }

        @Test
        void filtersByStatus() {
            http.post("/v1/jobs", "{\"type\": \"echo\", \"queue\": \"status-q\", \"delaySeconds\": 600}");
            http.post("/v1/jobs", "{\"type\": \"echo\", \"queue\": \"status-q\"}");

            JsonNode scheduled = http.get("/v1/jobs?queue=status-q&status=SCHEDULED").json().get("jobs");

            assertThat(scheduled.size()).isEqualTo(1);
            assertThat(scheduled.get(0).get("status").asString()).isEqualTo("SCHEDULED");
        }
    }
}
