package dev.conveyor.api.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.apache.kafka.common.TopicPartition;

/**
 * Throws malformed, oversized and hostile requests at every route and header of a real api (PostgreSQL and Kafka
 * as in every api test) and checks that each is answered, quickly, with a 4xx problem document (or a 2xx where the
 * odd input is valid after all); that nothing refused left a row in {@code jobs} or a record on a
 * {@code conveyor.jobs.*} topic; and that the api is healthy afterwards. Prints how many requests it sent.
 *
 * <p>Run alone: {@code ./mvnw -B -o verify -pl common,api -Dtest='Fuzz*' -Dsurefire.failIfNoSpecifiedTests=false}.
 * jqwik picks new random inputs on every run and prints the seed of a failure; a failing seed is tried first on
 * the next run (kept in {@code api/target/jqwik-database}).
 */
class FuzzTest {

    private static FuzzedApi api;
    private static RawHttp http;
    private static Map<TopicPartition, Long> topicEndsBefore;
    private static Instant runStarted;
    private static final Set<String> accepted = ConcurrentHashMap.newKeySet();
    private static final Map<String, AtomicInteger> sent = new ConcurrentHashMap<>();
    private static final Map<String, java.util.concurrent.atomic.AtomicLong> millis = new ConcurrentHashMap<>();
    private static final Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
    private static volatile String slowest = "";
    private static volatile long slowestMillis;

    @BeforeContainer
    static void start() throws Exception {
        runStarted = Instant.now();
        api = FuzzedApi.start();
        http = api.http();
        topicEndsBefore = api.jobTopicEnds();
    }

    @Property(tries = 1200, shrinking = ShrinkingMode.BOUNDED)
    void submitNamesTheBrokenField(@ForAll("brokenSubmits") SubmitCases.Broken request) {
        check("submit: one field broken", Case.postJson("/v1/jobs", request.json(),
                new Case.Refused(Set.of(request.tooLarge() ? 413 : 400), request.named())));
    }

    @Property(tries = 500, shrinking = ShrinkingMode.BOUNDED)
    void submitRefusesWhatIsNotARequest(@ForAll("notARequest") String body) {
        check("submit: not a request", Case.postJson("/v1/jobs", body, Case.refused("body", 400)));
    }

    @Property(tries = 150, shrinking = ShrinkingMode.BOUNDED)
    void submitRefusesBytesThatAreNotJson(@ForAll("garbage") byte[] body) {
        check("submit: garbage bytes", Case.request("POST", "/v1/jobs", List.of(
                "Content-Type: application/json"), body, Case.refused("body", 400)));
    }

    @Property(tries = 500, shrinking = ShrinkingMode.BOUNDED)
    void batchNamesTheBrokenItem(@ForAll("brokenBatches") Map.Entry<String, List<String>> batch) {
        check("batch: one item or the frame broken", Case.postJson("/v1/jobs/batch", batch.getKey(),
                new Case.Refused(Set.of(400, 413), batch.getValue())));
    }

    @Property(tries = 800, shrinking = ShrinkingMode.BOUNDED)
    void jobRoutesRefuseHostileIdsAndWaits(@ForAll("jobPaths") Case request) {
        check("job routes: id and wait", request);
    }

    @Property(tries = 600, shrinking = ShrinkingMode.BOUNDED)
    void listRefusesHostileFiltersAndCursors(@ForAll("listQueries") Case request) {
        check("list: filters and cursors", request);
    }

    @Property(tries = 500, shrinking = ShrinkingMode.BOUNDED)
    void otherRoutesAndMethods(@ForAll("otherRoutes") Case request) {
        check("routes and methods", request);
    }

    @Property(tries = 600, shrinking = ShrinkingMode.BOUNDED)
    void hostileHeadersAreRefused(@ForAll("headers") Case request) {
        var answer = check("headers", request);
        assertThat(answer.headers()).as("no header a request injected").doesNotContainKey("x-injected");
    }

    /** Found by {@link #hostileHeadersAreRefused}: a body that claims to be multipart but has no boundary was a 500. */
    @Example
    void aMultipartClaimWithoutABoundaryIsRefused() {
        for (var type : List.of("multipart/form-data", "multipart/mixed; boundary=", "multipart/form-data; boundary=x")) {
            var body = "{\"type\":\"Bad\"}".getBytes(StandardCharsets.UTF_8);
            check("headers", Case.request("POST", "/v1/jobs", List.of("Content-Type: " + type), body,
                    new Case.Refused(Set.of(), List.of())));
        }
    }

    @Property(tries = 300, shrinking = ShrinkingMode.BOUNDED)
    void oddButValidSubmissionsAreAccepted(@ForAll("validSubmissions") String body) {
        var answer = check("valid: odd submissions", Case.postJson("/v1/jobs", body, new Case.Accepted()));
        assertThat(answer.status()).isEqualTo(202);
        accepted.add(answer.json().get("id").asString());
    }

    @Property(tries = 60, shrinking = ShrinkingMode.BOUNDED)
    void oddButValidBatchesAreAccepted(@ForAll("validBatches") String body) {
        var answer = check("valid: odd batches", Case.postJson("/v1/jobs/batch", body, new Case.Accepted()));
        answer.json().get("jobs").valueStream().forEach(job -> accepted.add(job.get("id").asString()));
    }

    /**
     * Found by this test: Jackson kept the last of two equal keys, so {@code {"type":"echo","type":"x"}} was accepted
     * as a job of type {@code x}. {@code SubmitController} now reads with strict duplicate detection.
     */
    @Example
    void refusesDuplicateKeys() {
        check("submit: duplicate keys", Case.postJson("/v1/jobs", "{\"type\":\"echo\",\"type\":\"Bad\"}",
                Case.refused(null, 400)));
        check("submit: duplicate keys", Case.postJson("/v1/jobs", "{\"type\":\"echo\",\"type\":\"echo\"}",
                Case.refused(null, 400)));
    }

    /**
     * Found by this test: an integer past a double's range (309 digits or more, up to the 1000 Jackson reads) in
     * {@code maxAttempts}, {@code timeoutSeconds} or {@code delaySeconds} was a 500: {@code SubmitRequests.integer}
     * called {@code asDouble()}, which Jackson 3 refuses for such a {@code BigIntegerNode}. It now compares exactly.
     */
    @Example
    void refusesIntegersPastADoublesRange() {
        for (var field : List.of("maxAttempts", "timeoutSeconds", "delaySeconds")) {
            check("submit: huge integer", Case.postJson("/v1/jobs", "{\"type\":\"echo\",\"" + field + "\":"
                    + "9".repeat(400) + "}", Case.refused(field, 400)));
            check("batch: huge integer", Case.postJson("/v1/jobs/batch", "{\"jobs\":[{\"type\":\"echo\",\"" + field
                    + "\":" + "9".repeat(400) + "}]}", Case.refused("jobs[0]." + field, 400)));
        }
    }

    @AfterContainer
    static void nothingRefusedWasStoredOrPublished() throws Exception {
        try {
            var total = sent.values().stream().mapToInt(AtomicInteger::get).sum();
            System.out.printf("Fuzz: %d requests sent, %d jobs accepted (valid inputs); by kind: %s%n", total,
                    accepted.size(), new TreeMap<>(sent));
            System.out.printf("Fuzz: answers by status %s%n", new TreeMap<>(statuses));
            System.out.printf("Fuzz: ms by kind %s; slowest %d ms: %s%n", new TreeMap<>(millis), slowestMillis,
                    slowest.length() > 300 ? slowest.substring(0, 300) : slowest);
            var health = http.get("/actuator/health");
            assertThat(health.status()).as("health after the run: %s", health).isEqualTo(200);
            assertThat(health.json().get("status").asString()).isEqualTo("UP");

            assertThat(api.jobRows()).as("rows in jobs: only the accepted inputs").isEqualTo(accepted.size());
            assertThat(api.jobIds()).containsExactlyInAnyOrderElementsOf(accepted);

            // Every record on the valid queue's topic is an accepted job. Other topics may get records meanwhile:
            // the apis of earlier test classes, their contexts cached in this JVM, publish their own jobs again
            // (no worker runs). Those jobs were made before this run; a refused input published would be newer.
            var validTopic = "conveyor.jobs." + FuzzedApi.VALID_QUEUE;
            var published = api.publishedBetween(topicEndsBefore, api.jobTopicEnds());
            assertThat(published).filteredOn(record -> record.topic().equals(validTopic))
                    .extracting(FuzzedApi.Published::key).as("every record published is an accepted job")
                    .allSatisfy(key -> assertThat(accepted).contains(key));
            assertThat(published).filteredOn(record -> !record.topic().equals(validTopic))
                    .as("records on other topics: only jobs made before this run, by other tests' apis")
                    .allSatisfy(record -> {
                        assertThat(accepted).doesNotContain(record.key());
                        assertThat(madeAt(record.key())).isBefore(runStarted);
                    });
        } finally {
            api.close();
        }
    }

    /** When a job id (a UUIDv7) was made: its first 48 bits are the milliseconds since the epoch. */
    private static Instant madeAt(String jobId) {
        return Instant.ofEpochMilli(UUID.fromString(jobId).getMostSignificantBits() >>> 16);
    }

        private static RawHttp.Answer check(String kind, Case request) {
        sent.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
        var answer = http.raw(request.head(), request.body());
        statuses.computeIfAbsent(answer.status(), k -> new AtomicInteger()).incrementAndGet();
        millis.computeIfAbsent(kind, k -> new java.util.concurrent.atomic.AtomicLong()).addAndGet(answer.took().toMillis());
        if (answer.took().toMillis() > slowestMillis) {
            slowestMillis = answer.took().toMillis();
            slowest = request.toString();
        }
        Answers.check(request, answer);
        return answer;
    }

    @Provide
    Arbitrary<SubmitCases.Broken> brokenSubmits() {
        return SubmitCases.broken();
    }

    @Provide
    Arbitrary<String> notARequest() {
        return SubmitCases.notARequest();
    }

    @Provide
    Arbitrary<byte[]> garbage() {
        return Hostile.garbageBytes();
    }

    @Provide
    Arbitrary<Map.Entry<String, List<String>>> brokenBatches() {
        return SubmitCases.brokenBatches();
    }

    @Provide
    Arbitrary<Case> jobPaths() {
        return RequestCases.jobPaths();
    }

    @Provide
    Arbitrary<Case> listQueries() {
        return RequestCases.listQueries();
    }

    @Provide
    Arbitrary<Case> otherRoutes() {
        return RequestCases.otherRoutes();
    }

    @Provide
    Arbitrary<Case> headers() {
        return RequestCases.headers();
    }

    @Provide
    Arbitrary<String> validSubmissions() {
        return ValidCases.submissions();
    }

    @Provide
    Arbitrary<String> validBatches() {
        return ValidCases.batches();
    }
}
