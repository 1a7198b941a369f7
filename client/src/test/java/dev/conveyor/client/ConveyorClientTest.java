package dev.conveyor.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The client against a stub server: retries, Retry-After, problems, long-polls and cursors. */
class ConveyorClientTest {

    private static final UUID ID = UUID.fromString("01a22222-29f0-77f3-b860-1cad7579bffe");
    private static final String UNAVAILABLE = "{\"type\":\"https://conveyor.dev/problems/store-unavailable\","
            + "\"title\":\"Job store unavailable\",\"status\":503,\"detail\":\"Try again.\"}";

    private final StubApi api = new StubApi();

    @AfterEach
    void stop() {
        api.close();
    }

    private ConveyorClient client(RetryPolicy retry) {
        return ConveyorClient.builder(api.uri()).retryPolicy(retry).build();
    }

    private static String job(String status, String result) {
        return "{\"id\":\"" + ID + "\",\"type\":\"echo\",\"queue\":\"default\",\"status\":\"" + status + "\","
                + "\"payload\":{\"n\":3},\"result\":" + result + ",\"error\":null,\"attempts\":1,\"maxAttempts\":3,"
                + "\"timeoutSeconds\":300,\"idempotencyKey\":null,\"workerId\":null,"
                + "\"createdAt\":\"2026-11-28T10:15:30.123Z\",\"runAt\":\"2026-11-28T10:15:30.123Z\","
                + "\"startedAt\":null,\"finishedAt\":null,\"updatedAt\":\"2026-11-28T10:15:30.123Z\","
                + "\"progress\":{\"fraction\":0.5,\"message\":\"half\",\"at\":\"2026-11-28T10:15:30.200Z\"},"
                + "\"addedLater\":true}";
    }

    record Count(int n) {
    }

    @Nested
    class Retries {

        @Test
        void aSubmitIsSentAgainAfterA503WithTheSameMadeUpKeyOnceRetryAfterHasPassed() {
            api.then(503, UNAVAILABLE, "Retry-After", "1").then(202, job("QUEUED", "null"));
            var job = client(RetryPolicy.DEFAULT).submit(JobRequest.of("echo", new Count(3)));

            assertThat(job.id()).isEqualTo(ID);
            var sent = api.received();
            assertThat(sent).hasSize(2);
            var first = ClientJson.MAPPER.readTree(sent.get(0).body());
            assertThat(first.get("idempotencyKey").asString()).startsWith("conveyor-client-");
            assertThat(ClientJson.MAPPER.readTree(sent.get(1).body())).isEqualTo(first);
            assertThat(first.get("payload").get("n").asInt()).isEqualTo(3);
            assertThat(Duration.ofNanos(sent.get(1).atNanos() - sent.get(0).atNanos()))
                    .isGreaterThanOrEqualTo(Duration.ofMillis(950));
        }

        @Test
        void aGetIsSentAgainAfterA429WithBackoff() {
            api.then(429, "{\"title\":\"Too many\",\"status\":429,\"detail\":\"slow down\"}")
                    .then(200, job("RUNNING", "null"));
            assertThat(client(new RetryPolicy(3, Duration.ofMillis(10), Duration.ofMillis(50))).get(ID).status())
                    .isEqualTo(JobStatus.RUNNING);
            assertThat(api.received()).hasSize(2);
        }

        @Test
        void givesUpAfterMaxAttemptsWithTheLastProblem() {
            api.then(503, UNAVAILABLE).then(503, UNAVAILABLE).then(503, UNAVAILABLE).then(200, job("QUEUED", "null"));
            var client = client(new RetryPolicy(3, Duration.ofMillis(10), Duration.ofMillis(50)));
            assertThatThrownBy(() -> client.get(ID)).isInstanceOfSatisfying(ProblemException.class,
                    e -> assertThat(e.problem().title()).isEqualTo("Job store unavailable"));
            assertThat(api.received()).hasSize(3);
        }

        @Test
        void aRetryAfterLongerThanMaxDelayFailsAtOnce() {
            api.then(503, UNAVAILABLE, "Retry-After", "3600").then(200, job("QUEUED", "null"));
            assertThatThrownBy(() -> client(RetryPolicy.DEFAULT).get(ID)).isInstanceOf(ProblemException.class);
            assertThat(api.received()).hasSize(1);
        }

        @Test
        void cancelAndRetryAreNeverSentAgain() {
            api.then(503, UNAVAILABLE, "Retry-After", "0").then(503, UNAVAILABLE, "Retry-After", "0");
            var client = client(RetryPolicy.DEFAULT);
            assertThatThrownBy(() -> client.cancel(ID)).isInstanceOfSatisfying(ProblemException.class,
                    e -> assertThat(e.status()).isEqualTo(503));
            assertThatThrownBy(() -> client.retry(ID)).isInstanceOf(ProblemException.class);
            assertThat(api.received()).extracting(StubApi.Received::uri)
                    .containsExactly("/v1/jobs/" + ID + "/cancel", "/v1/jobs/" + ID + "/retry");
        }

        @Test
        void aSubmitWithoutAKeyIsNotSentAgainWhenTheClientMakesNoKeys() {
            api.then(503, UNAVAILABLE, "Retry-After", "0").then(202, job("QUEUED", "null"));
            var client = ConveyorClient.builder(api.uri()).generateIdempotencyKeys(false).build();
            assertThatThrownBy(() -> client.submit(JobRequest.of("echo"))).isInstanceOf(ProblemException.class);
            assertThat(api.received()).hasSize(1);
            assertThat(api.received().getFirst().body()).doesNotContain("idempotencyKey");
        }

        @Test
        void aCallersKeyGoesAsIsAndABatchIsSentAgainWithTheSameKeys() {
            api.then(503, UNAVAILABLE, "Retry-After", "0")
                    .then(202, "{\"jobs\":[" + job("QUEUED", "null") + "," + job("QUEUED", "null") + "]}");
            var jobs = client(RetryPolicy.DEFAULT).submitAll(List.of(
                    JobRequest.of("echo").idempotencyKey("order-42"), JobRequest.of("sleep", Map.of("ms", 5))));
            assertThat(jobs).hasSize(2);
            var first = ClientJson.MAPPER.readTree(api.received().get(0).body());
            assertThat(first.get("jobs").get(0).get("idempotencyKey").asString()).isEqualTo("order-42");
            assertThat(first.get("jobs").get(1).get("idempotencyKey").asString()).startsWith("conveyor-client-");
            assertThat(ClientJson.MAPPER.readTree(api.received().get(1).body())).isEqualTo(first);
        }

        @Test
        void noAnswerAtAllIsRetriedThenReported() throws Exception {
            int port;
            try (var socket = new ServerSocket(0)) {
                port = socket.getLocalPort();
            }
            var client = ConveyorClient.builder(URI.create("http://127.0.0.1:" + port))
                    .retryPolicy(new RetryPolicy(3, Duration.ofMillis(10), Duration.ofMillis(50))).build();
            assertThatThrownBy(() -> client.get(ID)).isInstanceOf(ConveyorException.class)
                    .isNotInstanceOf(ProblemException.class).hasMessageContaining("in 3 tries");
        }

        @Test
        void readsRetryAfterInSecondsOrAsAnHttpDate() {
            var inTenSeconds = ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(10)
                    .format(DateTimeFormatter.RFC_1123_DATE_TIME);
            assertThat(Transport.retryAfter(headers("7"))).contains(Duration.ofSeconds(7));
            assertThat(Transport.retryAfter(headers(inTenSeconds)).orElseThrow())
                    .isBetween(Duration.ofSeconds(8), Duration.ofSeconds(10));
            assertThat(Transport.retryAfter(headers("-3"))).isEmpty();
            assertThat(Transport.retryAfter(headers("soon"))).isEmpty();
        }

        private static HttpHeaders headers(String retryAfter) {
            return HttpHeaders.of(Map.of("Retry-After", List.of(retryAfter)), (name, value) -> true);
        }
    }

    @Nested
    class Answers {

        @Test
        void aRefusalCarriesTheProblemDocumentWithItsFieldErrors() {
            api.then(400, "{\"type\":\"https://conveyor.dev/problems/validation\",\"title\":\"Invalid request\","
                    + "\"status\":400,\"detail\":\"type: is required\",\"instance\":\"/v1/jobs\","
                    + "\"errors\":[{\"field\":\"type\",\"message\":\"is required\"}]}");
            assertThatThrownBy(() -> client(RetryPolicy.DEFAULT).submit(JobRequest.of("echo")))
                    .isInstanceOfSatisfying(ProblemException.class, e -> {
                        assertThat(e.status()).isEqualTo(400);
                        assertThat(e.problem().detail()).isEqualTo("type: is required");
                        assertThat(e.fieldErrors()).containsExactly(new Problem.FieldError("type", "is required"));
                    });
        }

        @Test
        void anAnswerThatIsNoProblemDocumentStillGivesItsStatusAndText() {
            api.then(502, "<html>bad gateway</html>", "Content-Type", "text/html");
            assertThatThrownBy(() -> client(RetryPolicy.DEFAULT).get(ID)).isInstanceOfSatisfying(
                    ProblemException.class, e -> {
                        assertThat(e.status()).isEqualTo(502);
                        assertThat(e.problem().detail()).contains("bad gateway");
                    });
        }

        @Test
        void aJobReadsItsResultAndPayloadIntoYourTypes() {
            api.then(200, job("SUCCEEDED", "{\"n\":7}"));
            var job = client(RetryPolicy.DEFAULT).get(ID);
            assertThat(job.result(Count.class)).isEqualTo(new Count(7));
            assertThat(job.payload(Count.class)).isEqualTo(new Count(3));
            assertThat(job.progress().message()).isEqualTo("half");
        }

        @Test
        void aResultsNumbersAreReadExactly() {
            api.then(200, job("SUCCEEDED", "{\"total\":0.1000000000000000000001}"));
            var job = client(RetryPolicy.DEFAULT).get(ID);
            assertThat(job.result().get("total").decimalValue()).isEqualTo(new BigDecimal("0.1000000000000000000001"));
            assertThat(job.result(Total.class).total()).isEqualTo(new BigDecimal("0.1000000000000000000001"));
        }

        record Total(BigDecimal total) {
        }

        @Test
        void aPayloadThatIsNoJsonObjectIsRefusedBeforeSending() {
            assertThatThrownBy(() -> client(RetryPolicy.DEFAULT).submit(JobRequest.of("echo", 5)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("JSON object");
            assertThat(api.received()).isEmpty();
        }

        @Test
        void aTimeoutOrDelayWithAFractionOfASecondIsRefusedBeforeSending() {
            var request = JobRequest.of("echo");
            assertThatThrownBy(() -> request.timeout(Duration.ofMillis(1500)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("timeout must be whole seconds, not PT1.5S");
            assertThatThrownBy(() -> request.delay(Duration.ofMillis(-500)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("delay must be whole seconds");
            api.then(202, job("QUEUED", "null"));
            client(RetryPolicy.DEFAULT).submit(request.timeout(Duration.ofSeconds(90)).delay(Duration.ofMinutes(2)));
            var body = ClientJson.MAPPER.readTree(api.received().getFirst().body());
            assertThat(body.get("timeoutSeconds").asLong()).isEqualTo(90);
            assertThat(body.get("delaySeconds").asLong()).isEqualTo(120);
        }
    }

    @Nested
    class WaitingAndListing {

        @Test
        void awaitLongPollsUntilTheJobEnds() {
            api.then(200, job("RUNNING", "null")).then(200, job("SUCCEEDED", "{\"n\":1}"));
            var job = client(RetryPolicy.DEFAULT).await(ID, Duration.ofSeconds(90));
            assertThat(job.status()).isEqualTo(JobStatus.SUCCEEDED);
            assertThat(api.received()).extracting(StubApi.Received::uri)
                    .allMatch(uri -> uri.matches("/v1/jobs/" + ID + "\\?wait=\\d+\\.\\d{3}"))
                    .first().asString().endsWith("wait=60.000");
        }

        @Test
        void awaitAnswersTheJobAsItStandsWhenTheTimeIsUp() {
            api.then(200, job("RUNNING", "null"));
            assertThat(client(RetryPolicy.DEFAULT).await(ID, Duration.ZERO).status()).isEqualTo(JobStatus.RUNNING);
            assertThat(api.received()).extracting(StubApi.Received::uri)
                    .containsExactly("/v1/jobs/" + ID + "?wait=0.000");
        }

        @Test
        void awaitAsksWithoutAWaitWhileTheApiHasNoRoomForLongPollsAndLongPollsAgainASecondLater() {
            var full = "{\"type\":\"https://conveyor.dev/problems/too-many-long-polls\",\"title\":\"Too many "
                    + "long-polls\",\"status\":429,\"detail\":\"6000 long-polls wait here.\"}";
            api.then(429, full, "Retry-After", "0").then(429, full, "Retry-After", "0")
                    .then(200, job("RUNNING", "null")).then(200, job("SUCCEEDED", "{\"n\":1}"));

            var job = client(new RetryPolicy(2, Duration.ofMillis(10), Duration.ofMillis(50)))
                    .await(ID, Duration.ofSeconds(90));

            assertThat(job.status()).isEqualTo(JobStatus.SUCCEEDED);
            var sent = api.received();
            assertThat(sent).extracting(StubApi.Received::uri).containsExactly(
                    "/v1/jobs/" + ID + "?wait=60.000", "/v1/jobs/" + ID + "?wait=60.000", "/v1/jobs/" + ID,
                    "/v1/jobs/" + ID + "?wait=60.000");
            assertThat(Duration.ofNanos(sent.get(3).atNanos() - sent.get(0).atNanos()))
                    .isGreaterThanOrEqualTo(Duration.ofMillis(950));
        }

        @Test
        void awaitThrowsOtherRefusalsOfItsLongPoll() {
            var tooMany = "{\"type\":\"https://conveyor.dev/problems/rate-limited\",\"title\":\"Too many "
                    + "requests\",\"status\":429,\"detail\":\"slow down\"}";
            api.then(429, tooMany, "Retry-After", "0").then(429, tooMany, "Retry-After", "0");

            assertThatThrownBy(() -> client(new RetryPolicy(2, Duration.ofMillis(10), Duration.ofMillis(50)))
                    .await(ID, Duration.ofSeconds(90))).isInstanceOfSatisfying(ProblemException.class,
                            e -> assertThat(e.status()).isEqualTo(429));
            assertThat(api.received()).hasSize(2);
        }

        @Test
        void listFollowsTheCursorPageByPage() {
            api.then(200, "{\"jobs\":[" + job("FAILED", "null") + "],\"next\":\"c1\"}")
                    .then(200, "{\"jobs\":[" + job("FAILED", "null") + "],\"next\":null}");
            var jobs = client(RetryPolicy.DEFAULT)
                    .list(JobQuery.all().status(JobStatus.FAILED).queue("mail q").pageSize(1)).toList();
            assertThat(jobs).hasSize(2);
            assertThat(api.received()).extracting(StubApi.Received::uri).containsExactly(
                    "/v1/jobs?limit=1&status=FAILED&queue=mail+q", "/v1/jobs?limit=1&status=FAILED&queue=mail+q&after=c1");
        }
    }

    @Nested
    class ApiKeys {

        private static final String KEY = "cvk_client-test-0123456789abcdef0123456789abcdef";
        private static final String UNAUTHORIZED = "{\"type\":\"https://conveyor.dev/problems/unauthorized\","
                + "\"title\":\"Unauthorized\",\"status\":401,\"detail\":\"The API key is not valid (unknown or "
                + "revoked)\"}";

        private ConveyorClient withKey(String key) {
            return ConveyorClient.builder(api.uri()).apiKey(key).build();
        }

        @Test
        void theKeyGoesAsABearerTokenOnEveryRequest() {
            api.then(202, job("QUEUED", "null")).then(200, job("RUNNING", "null"))
                    .then(200, "{\"jobs\":[],\"next\":null}").then(202, job("CANCELLED", "null"));
            var client = withKey(KEY);

            client.submit(JobRequest.of("echo"));
            client.get(ID);
            client.page(JobQuery.all(), null);
            client.cancel(ID);

            assertThat(api.received()).hasSize(4)
                    .allSatisfy(request -> assertThat(request.header("Authorization")).isEqualTo("Bearer " + KEY));
        }

        @Test
        void withoutAKeyNoAuthorizationHeaderIsSent() {
            api.then(200, job("RUNNING", "null"));
            client(RetryPolicy.DEFAULT).get(ID);
            assertThat(api.received().getFirst().header("Authorization")).isNull();
        }

        @Test
        void a401IsAProblemExceptionThatIsNotSentAgainAndNeverShowsTheKey() {
            api.then(401, UNAUTHORIZED, "WWW-Authenticate", "Bearer realm=\"conveyor\", error=\"invalid_token\"")
                    .then(200, job("RUNNING", "null"));
            assertThatThrownBy(() -> withKey(KEY).get(ID)).isInstanceOfSatisfying(ProblemException.class, e -> {
                assertThat(e.status()).isEqualTo(401);
                assertThat(e.getMessage()).contains("unknown or revoked").doesNotContain(KEY);
                assertThat(e.toString()).doesNotContain(KEY);
                assertThat(e.problem().toString()).doesNotContain(KEY);
            });
            assertThat(api.received()).hasSize(1);
        }

        @Test
        void a401WithoutAKeySaysHowToSendOne() {
            api.then(401, UNAUTHORIZED.replace("The API key is not valid (unknown or revoked)",
                    "Send an API key: Authorization: Bearer <key>"));
            assertThatThrownBy(() -> client(RetryPolicy.DEFAULT).submit(JobRequest.of("echo")))
                    .isInstanceOfSatisfying(ProblemException.class, e -> assertThat(e.status()).isEqualTo(401))
                    .hasMessageContaining("ConveyorClient.Builder.apiKey");
        }

        @Test
        void a403NamesTheScopeTheKeyLacks() {
            api.then(403, "{\"type\":\"https://conveyor.dev/problems/forbidden\",\"title\":\"Forbidden\","
                    + "\"status\":403,\"detail\":\"This key lacks the scope jobs:write, which this endpoint needs\"}");
            assertThatThrownBy(() -> withKey(KEY).retry(ID)).isInstanceOfSatisfying(ProblemException.class, e -> {
                assertThat(e.status()).isEqualTo(403);
                assertThat(e.problem().detail()).contains("jobs:write");
                assertThat(e.getMessage()).doesNotContain(KEY).doesNotContain("Builder.apiKey");
            });
        }

        @Test
        void aKeyThatCannotGoInAHeaderIsRefusedWithoutShowingIt() {
            var builder = ConveyorClient.builder(api.uri());
            for (var bad : List.of("", "cvk_secret-part\r\nX-Injected: 1", "cvk_secret part", "cvk_sécret")) {
                assertThatThrownBy(() -> builder.apiKey(bad)).isInstanceOf(IllegalArgumentException.class)
                        .message().doesNotContain("secret");
            }
            assertThat(api.received()).isEmpty();
        }
    }
}
