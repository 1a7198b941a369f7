package dev.conveyor.api.results;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.api.wakeup.JobNotifications;
import dev.conveyor.common.Topics;
import dev.conveyor.common.test.HttpJson;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.context.Lifecycle;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.SqlArrayValue;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * Worker events as the api receives them on {@code conveyor.events}, written here by hand as a hostile or broken
 * worker could write them. No worker runs: the jobs stay QUEUED until an event moves them.
 */
@ApiTest
class EventsTest {

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
    @Autowired
    ApplicationContext context;

    HttpJson http;
    KafkaProducer<String, String> producer;

    @BeforeEach
    void clients() {
        http = ApiTests.client(port);
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                dev.conveyor.common.test.TestKafka.bootstrapServers(), ProducerConfig.LINGER_MS_CONFIG, 50,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class));
    }

    @AfterEach
    void close() {
        producer.close();
    }

    private UUID submit() {
        return UUID.fromString(http.post("/v1/jobs", "{\"type\": \"echo\"}").json().get("id").asString());
    }

    private JsonNode job(UUID id) {
        return http.get("/v1/jobs/" + id).json();
    }

    private String status(UUID id) {
        return job(id).get("status").asString();
    }

    /** Sends the events in this order, keyed by job id like a worker's, and waits until Kafka has them all. */
    private void send(List<String> events) {
        var sent = events.stream().map(event -> producer.send(new ProducerRecord<>(Topics.EVENTS, key(event), event)))
                .toList();
        producer.flush();
        sent.forEach(future -> {
            try {
                future.get();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** {@code n} more jobs, each started and succeeded by {@code events} (in the batch around a poisoned one). */
    private List<UUID> succeeding(List<String> events, int n) {
        var ids = new ArrayList<UUID>();
        for (var i = 0; i < n; i++) {
            var id = submit();
            ids.add(id);
            events.add(started(id, 1, 0));
            events.add(succeeded(id, 1, 0, "{\"n\": " + i + ".5}"));
        }
        return ids;
    }

    private void awaitSucceeded(List<UUID> ids) {
        await().atMost(Duration.ofSeconds(20)).until(() -> ids.stream().allMatch(id -> status(id).equals("SUCCEEDED")));
    }

    private static String key(String event) {
        var matcher = java.util.regex.Pattern.compile("\"jobId\": \"([^\"]+)\"").matcher(event);
        return matcher.find() ? matcher.group(1) : "garbage";
    }

    /** A worker's start of the attempt, as it writes one (also for other classes' hand-written events). */
    static String started(UUID id, int attempt, int generation) {
        return """
                {"event": "started", "v": 1, "jobId": "%s", "attempt": %d, "generation": %d, "workerId": "w1",
                 "at": "%s"}""".formatted(id, attempt, generation, Instant.now());
    }

    /** A worker's success of the attempt with {@code result} (JSON), as it writes one. */
    static String succeeded(UUID id, int attempt, int generation, String result) {
        return """
                {"event": "finished", "v": 1, "jobId": "%s", "attempt": %d, "generation": %d, "maxAttempts": 3,
                 "workerId": "w1", "outcome": "SUCCEEDED", "result": %s, "at": "%s"}"""
                .formatted(id, attempt, generation, result, Instant.now());
    }

    private static String failed(UUID id, int attempt, boolean retryable, long retryAfterMs) {
        return """
                {"event": "finished", "v": 1, "jobId": "%s", "attempt": %d, "maxAttempts": 3, "workerId": "w1",
                 "outcome": "FAILED", "error": {"code": "HTTP_STATUS", "message": "503", "retryable": %s},
                 "retryAfterMs": %d, "at": "%s"}""".formatted(id, attempt, retryable, retryAfterMs, Instant.now());
    }

    /** A worker's hand-back of the job's dispatch after {@code handBacks} hand-backs, without having run it. */
    private static String givenBack(UUID id, int attempt, int handBacks) {
        return """
                {"event": "finished", "v": 1, "jobId": "%s", "attempt": %d, "generation": 0, "maxAttempts": 3,
                 "workerId": "w1", "outcome": "FAILED", "error": {"code": "WORKER_LOST", "message": "no room",
                 "retryable": true}, "at": "%s", "startedAt": "%s", "handBacks": %d}"""
                .formatted(id, attempt, Instant.now(), Instant.now(), handBacks);
    }

    private int handBacks(UUID id) {
        return jdbc.sql("SELECT hand_backs FROM jobs WHERE id = :id").param("id", id).query(Integer.class).single();
    }

    private static String succeededStartedAt(UUID id, String startedAt, Instant at) {
        return """
                {"event": "finished", "v": 1, "jobId": "%s", "attempt": 1, "generation": 0, "maxAttempts": 3,
                 "workerId": "w1", "outcome": "SUCCEEDED", "result": {}, "at": "%s", "startedAt": %s}"""
                .formatted(id, at, startedAt);
    }

    @Test
    void eventsAreReadAndAppliedOnAPlatformThreadOfTheirOwn() {
        // Thread.getAllStackTraces() lists live platform threads only; a listener on a virtual thread is not among them
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(Thread.getAllStackTraces().keySet())
                .anySatisfy(thread -> {
                    assertThat(thread.getName()).startsWith("conveyor-events-");
                    assertThat(thread.isVirtual()).isFalse();
                    assertThat(thread.isDaemon()).isTrue();
                }));
        var id = submit();

        send(List.of(started(id, 1, 0), succeeded(id, 1, 0, "{}")));

        await().atMost(Duration.ofSeconds(10)).until(() -> status(id).equals("SUCCEEDED"));
    }

    @Test
    void aLongPollOnThisInstanceAnswersAsTheEndIsCommittedWithoutTheNotify() {
        var id = submit();
        var listener = context.getBean("endedJobsListener", Lifecycle.class);
        listener.stop();
        try {
            var poll = CompletableFuture.supplyAsync(() -> http.get("/v1/jobs/" + id + "?wait=30"));
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> meters.get("conveyor.longpolls.open").gauge().value() >= 1);
            var sent = System.nanoTime();

            send(List.of(started(id, 1, 0), succeeded(id, 1, 0, "{}")));

            var answer = poll.join().json();
            assertThat(answer.get("status").asString()).isEqualTo("SUCCEEDED");
            // woken by the applier, not by the long-poll's 30 s running out (no NOTIFY reaches this instance)
            assertThat(Duration.ofNanos(System.nanoTime() - sent)).isLessThan(Duration.ofSeconds(15));
        } finally {
            listener.start();
        }
    }

    @Test
    void aLongPollAnswersWithTheEndedJobAsAReadOfItGivesIt() {
        var id = submit();
        var poll = CompletableFuture.supplyAsync(() -> http.get("/v1/jobs/" + id + "?wait=30"));
        await().atMost(Duration.ofSeconds(10)).until(() -> meters.get("conveyor.longpolls.open").gauge().value() >= 1);

        var result = "{\"n\": 1, \"text\": \"caf\\u00e9\", \"none\": null}";
        send(List.of(started(id, 1, 0), succeeded(id, 1, 0, result)));

        var answer = poll.join().json();
        assertThat(answer.get("status").asString()).isEqualTo("SUCCEEDED");
        assertThat(answer.get("result").get("text").asString()).isEqualTo("café");
        assertThat(answer.get("finishedAt").isNull()).isFalse();
        assertThat(answer).isEqualTo(job(id));
    }

    @Test
    void theTransactionThatEndsJobsTellsEveryInstanceInNotificationsOfAtMostTwoHundredIds() throws Exception {
        var ids = new ArrayList<UUID>();
        for (var i = 0; i < 450; i++) {
            ids.add(submit());
        }
        var events = new ArrayList<String>();
        ids.forEach(id -> {
            events.add(started(id, 1, 0));
            events.add(succeeded(id, 1, 0, "{}"));
        });
        try (var connection = context.getBean(DataSource.class).getConnection();
                var statement = connection.createStatement()) {
            statement.execute("LISTEN " + JobNotifications.CHANNEL);
            // one batch, applied as the events consumer would apply one poll
            context.getBean(EventApplier.class).apply(events);

            var pg = connection.unwrap(PGConnection.class);
            var told = new HashSet<UUID>();
            var largest = new AtomicInteger();
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                for (var notification : pg.getNotifications(100)) {
                    var payload = notification.getParameter().split(",");
                    largest.accumulateAndGet(payload.length, Math::max);
                    Arrays.stream(payload).map(UUID::fromString).forEach(told::add);
                }
                return told.size() >= ids.size();
            });
            assertThat(told).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(largest.get()).isEqualTo(JobNotifications.IDS_PER_NOTIFICATION);
            statement.execute("UNLISTEN *");
        }
    }

    @Test
    void anEndWithoutAStartStandsForItAndSaysWhenTheAttemptStarted() {
        // the api shows instants to the millisecond
        var at = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        var started = at.minusMillis(40);
        var plain = submit();
        var later = submit();
        var absurd = submit();
        var garbled = submit();

        send(List.of(succeededStartedAt(plain, "\"" + started + "\"", at),
                succeededStartedAt(later, "\"" + at.plusSeconds(5) + "\"", at),
                succeededStartedAt(absurd, "\"+99999-01-01T00:00:00Z\"", at),
                succeededStartedAt(garbled, "\"yesterday\"", at)));

        await().atMost(Duration.ofSeconds(20)).until(() -> status(plain).equals("SUCCEEDED"));
        assertThat(Instant.parse(job(plain).get("startedAt").asString())).isEqualTo(started);
        assertThat(job(plain).get("workerId").asString()).isEqualTo("w1");
        await().atMost(Duration.ofSeconds(20)).until(() -> status(later).equals("SUCCEEDED"));
        assertThat(Instant.parse(job(later).get("startedAt").asString())).as("a start after the end is not taken")
                .isEqualTo(at);
        await().atMost(Duration.ofSeconds(20)).until(() -> status(absurd).equals("SUCCEEDED"));
        assertThat(Instant.parse(job(absurd).get("startedAt").asString())).as("a date past any clock's slack")
                .isBeforeOrEqualTo(Instant.now());
        // an end that cannot be read still ends its attempt
        await().atMost(Duration.ofSeconds(20)).until(() -> status(garbled).equals("FAILED"));
        assertThat(job(garbled).get("error").get("code").asString()).isEqualTo("INVALID_REPORT");
    }

    @Test
    void aResultThePostgresCannotStoreFailsOnlyItsOwnJob() {
        var poisoned = submit();
        var events = new ArrayList<String>();
        events.add(started(poisoned, 1, 0));
        events.add(succeeded(poisoned, 1, 0, "{\"body\": \"a\\u0000b\"}"));
        var others = succeeding(events, 50);

        send(events);

        await().atMost(Duration.ofSeconds(20)).until(() -> status(poisoned).equals("FAILED"));
        assertThat(job(poisoned).get("error").get("code").asString()).isEqualTo("RESULT_INVALID");
        assertThat(job(poisoned).get("error").get("message").asString()).contains("NUL", "$.body");
        awaitSucceeded(others);
    }

    @Test
    void aResultsNumbersAreStoredExactlyAndOneBeyondWhatCanBeStoredFailsOnlyItsOwnJob() {
        // 1e-20000 is short text, but jsonb refuses more than 16,383 digits after the point: in the batch's update
        // it would fail everyone's change
        var tiny = submit();
        var exact = submit();
        var events = new ArrayList<String>();
        events.add(started(tiny, 1, 0));
        events.add(succeeded(tiny, 1, 0, "{\"a\": [1, {\"tiny\": 1e-20000}]}"));
        var huge = submit();
        events.add(started(huge, 1, 0));
        events.add(succeeded(huge, 1, 0, "{\"huge\": -1e999999}"));
        events.add(started(exact, 1, 0));
        events.add(succeeded(exact, 1, 0, "{\"x\": 0.1000000000000000000001, \"y\": 1e-990, \"z\": 2.50}"));
        var others = succeeding(events, 20);

        send(events);

        await().atMost(Duration.ofSeconds(20)).until(() -> status(tiny).equals("FAILED"));
        assertThat(job(tiny).get("error").get("code").asString()).isEqualTo("RESULT_INVALID");
        assertThat(job(tiny).get("error").get("message").asString()).contains("1000 characters", "$.a[1].tiny");
        await().atMost(Duration.ofSeconds(20)).until(() -> status(huge).equals("FAILED"));
        assertThat(job(huge).get("error").get("message").asString()).contains("$.huge");
        await().atMost(Duration.ofSeconds(20)).until(() -> status(exact).equals("SUCCEEDED"));
        var stored = jdbc.sql("SELECT result::text FROM jobs WHERE id = ?").param(exact).query(String.class).single();
        assertThat(stored)
                .isEqualTo("{\"x\": 0.1000000000000000000001, \"y\": 0." + "0".repeat(989) + "1, \"z\": 2.50}");
        awaitSucceeded(others);
    }

    @Test
    void aChangeTheDatabaseRefusesFailsOnlyItsOwnJobAndTheRestOfTheBatchIsRecorded() {
        // Something this api does not foresee makes PostgreSQL refuse one job's change: here a constraint of the
        // test's own, standing for any data error the reader cannot predict.
        jdbc.sql("ALTER TABLE jobs ADD CONSTRAINT test_refuses_poison CHECK (result -> 'poison' IS NULL)"
                + " NOT VALID").update();
        try {
            var refused = submit();
            var events = new ArrayList<String>();
            events.add(started(refused, 1, 0));
            events.add(succeeded(refused, 1, 0, "{\"poison\": 1}"));
            var others = succeeding(events, 20);

            send(events);

            await().atMost(Duration.ofSeconds(20)).until(() -> status(refused).equals("FAILED"));
            assertThat(job(refused).get("error").get("code").asString()).isEqualTo("INVALID_REPORT");
            assertThat(job(refused).get("error").get("message").asString()).contains("cannot be stored");
            awaitSucceeded(others);
        } finally {
            jdbc.sql("ALTER TABLE jobs DROP CONSTRAINT test_refuses_poison").update();
        }
    }

    @Test
    void aRetryAfterBeyondAnyDateFailsItsJobSayingSoAndHoldsUpNothing() {
        var throttled = submit();
        var next = submit();

        send(List.of(started(throttled, 1, 0), failed(throttled, 1, true, 315_360_000_000_000L),
                started(next, 1, 0), succeeded(next, 1, 0, "{}")));

        await().atMost(Duration.ofSeconds(20)).until(() -> status(next).equals("SUCCEEDED"));
        assertThat(status(throttled)).isEqualTo("FAILED");
        assertThat(job(throttled).get("error").get("message").asString()).contains("max-retry-after");
    }

    /**
     * A worker gave the job back without running it (no room for it, stopping): no attempt started, so the job keeps
     * its attempts and is published again under the same one; the same hand-back read again changes nothing. Before,
     * each hand-back took an attempt: a job that ran once showed {@code "attempts": 5} after four.
     */
    @Test
    void aJobGivenBackUnstartedKeepsItsAttemptsAndIsPublishedAgain() {
        var id = submit();
        send(List.of(givenBack(id, 1, 0)));
        await().atMost(Duration.ofSeconds(20)).until(() -> handBacks(id) == 1 && status(id).equals("QUEUED"));
        assertThat(job(id).get("attempts").asInt()).as("attempts started").isZero();
        assertThat(job(id).get("error").isNull()).as("nothing failed").isTrue();

        // read again, as after a crash before the events' offsets were committed
        var marker = submit();
        send(List.of(givenBack(id, 1, 0), started(marker, 1, 0), succeeded(marker, 1, 0, "{}")));
        await().atMost(Duration.ofSeconds(20)).until(() -> status(marker).equals("SUCCEEDED"));
        assertThat(handBacks(id)).isEqualTo(1);
        assertThat(status(id)).isEqualTo("QUEUED");

        send(List.of(started(id, 1, 0), succeeded(id, 1, 0, "{}")));
        await().atMost(Duration.ofSeconds(20)).until(() -> status(id).equals("SUCCEEDED"));
        assertThat(job(id).get("attempts").asInt()).isEqualTo(1);
    }

    @Test
    void eventsOfAnEarlierGenerationDoNotTouchARetriedJob() {
        var id = submit();
        send(List.of(started(id, 1, 0), failed(id, 1, false, 0)));
        await().atMost(Duration.ofSeconds(20)).until(() -> status(id).equals("FAILED"));
        assertThat(http.post("/v1/jobs/" + id + "/retry", "").status()).isEqualTo(202);

        // an old record of generation 0, redelivered after the retry, starts and ends attempt 2
        var marker = submit();
        send(List.of(started(id, 2, 0), succeeded(id, 2, 0, "{\"stale\": true}"), started(marker, 1, 0),
                succeeded(marker, 1, 0, "{}")));
        await().atMost(Duration.ofSeconds(20)).until(() -> status(marker).equals("SUCCEEDED"));
        assertThat(status(id)).isEqualTo("QUEUED");

        send(List.of(started(id, 2, 1), succeeded(id, 2, 1, "{\"fresh\": true}")));
        await().atMost(Duration.ofSeconds(20)).until(() -> status(id).equals("SUCCEEDED"));
        assertThat(job(id).get("result").get("fresh").asBoolean()).isTrue();
    }

    @Test
    void aStartThatNamesNoWorkerIsNotTakenForOneOnThePreviousAttemptsWorker() {
        var id = submit();
        send(List.of(started(id, 1, 0), failed(id, 1, true, 0)));
        await().atMost(Duration.ofSeconds(20)).until(() -> status(id).equals("QUEUED"));

        // a worker (of another language, say) that leaves out its id: the attempt's worker is not known. It was
        // taken for w1, whose attempt ended: had w1 died, the rescuer would have lost this attempt at once while it
        // ran, and run the job again beside it
        send(List.of("""
                {"event": "started", "v": 1, "jobId": "%s", "attempt": 2, "generation": 0, "at": "%s"}"""
                .formatted(id, Instant.now())));
        await().atMost(Duration.ofSeconds(20)).until(() -> status(id).equals("RUNNING"));
        var worker = job(id).get("workerId");
        assertThat(worker == null || worker.isNull()).as("the attempt's worker is not known: %s", worker).isTrue();
    }

    @Test
    void unreadableEventsAreSkippedAndAnEndThatNamesItsJobFailsIt() {
        var broken = submit();
        var next = submit();

        send(List.of("not json at all", "{\"event\": \"started\"}",
                "{\"event\": \"finished\", \"jobId\": \"" + broken + "\", \"attempt\": 1, \"outcome\": \"EXPLODED\"}",
                started(next, 1, 0), succeeded(next, 1, 0, "{}")));

        await().atMost(Duration.ofSeconds(20)).until(() -> status(next).equals("SUCCEEDED"));
        await().atMost(Duration.ofSeconds(20)).until(() -> status(broken).equals("FAILED"));
        assertThat(job(broken).get("error").get("code").asString()).isEqualTo("INVALID_REPORT");
    }

    @Test
    void theDatabaseRefusesMovesTheStateMachineForbids() {
        var id = submit();
        send(List.of(started(id, 1, 0), succeeded(id, 1, 0, "{}")));
        await().atMost(Duration.ofSeconds(20)).until(() -> status(id).equals("SUCCEEDED"));

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> jdbc
                        .sql("UPDATE jobs SET status = 'RUNNING' WHERE id = :id").param("id", id).update())
                .hasMessageContaining("may not move from SUCCEEDED to RUNNING");
        assertThat(status(id)).isEqualTo("SUCCEEDED");
    }

    /** The check is one statement per batch: a forbidden move among allowed ones and unchanged rows still fails it. */
    @Test
    void theDatabaseRefusesAForbiddenMoveHiddenInABatch() {
        var done = submit();
        send(List.of(started(done, 1, 0), succeeded(done, 1, 0, "{}")));
        await().atMost(Duration.ofSeconds(20)).until(() -> status(done).equals("SUCCEEDED"));
        var queued = new ArrayList<UUID>();
        for (var i = 0; i < 300; i++) {
            queued.add(submit());
        }
        var ids = new ArrayList<>(queued);
        ids.add(150, done);

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> jdbc
                        .sql("UPDATE jobs SET status = CASE WHEN id = :done THEN 'RUNNING' ELSE status END "
                                + "WHERE id = ANY(:ids)")
                        .param("done", done)
                        .param("ids", new SqlArrayValue("uuid", ids.toArray())).update())
                .hasMessageContaining("job " + done + " may not move from SUCCEEDED to RUNNING");
        assertThat(status(done)).isEqualTo("SUCCEEDED");

        var moved = jdbc.sql("UPDATE jobs SET status = CASE WHEN id = :first THEN 'CANCELLED' ELSE status END "
                        + "WHERE id = ANY(:ids)")
                .param("first", queued.getFirst())
                .param("ids", new SqlArrayValue("uuid", queued.toArray())).update();
        assertThat(moved).isEqualTo(queued.size());
        assertThat(status(queued.getFirst())).isEqualTo("CANCELLED");
    }

    @Test
    void theDatabasesTransitionsAreTheStateMachines() {
        var table = new java.util.HashSet<String>(jdbc.sql("SELECT from_status || '>' || to_status FROM job_transitions")
                .query(String.class).list());
        var expected = new java.util.HashSet<String>();
        for (var from : dev.conveyor.common.JobStatus.values()) {
            from.allowedNext().forEach(to -> expected.add(from + ">" + to));
        }

        assertThat(table).isEqualTo(expected);
    }
}
