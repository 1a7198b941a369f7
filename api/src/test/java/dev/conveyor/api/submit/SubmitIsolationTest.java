package dev.conveyor.api.submit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.doThrow;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.api.web.ApiException;
import dev.conveyor.api.web.StoreUnavailableException;
import dev.conveyor.common.Json;
import dev.conveyor.common.test.HttpJson;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.bean.override.mockito.MockitoSpyBean;
import tools.jackson.databind.node.ObjectNode;

/**
 * One bad submission never fails its neighbours. Over HTTP the bad one is refused before it reaches the
 * store; behind validation, a row the store still refuses is found among the rows it was coalesced with, and
 * only it fails. A test trigger stands in for refusals that validation cannot foresee.
 */
@ApiTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SubmitIsolationTest {

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
        // one writer, so that everything waiting while it is held up goes into one insert
        registry.add("conveyor.api.insert-writers", () -> "1");
    }

    private static final String TRIGGER = """
            CREATE FUNCTION refuse_marked_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.type = 'refused-by-store' THEN
                    RAISE EXCEPTION 'refused by a test trigger' USING ERRCODE = 'check_violation';
                END IF;
                IF NEW.type = 'store-hiccup' THEN
                    RAISE EXCEPTION 'a test hiccup' USING ERRCODE = 'serialization_failure';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_marked_jobs BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION refuse_marked_jobs();
            """;

    @LocalServerPort
    int port;
    @Autowired
    JdbcClient jdbc;
    @Autowired
    DataSource dataSource;
    @Autowired
    JobSubmitter submitter;
    @Autowired
    MeterRegistry meters;
    @Autowired
    Supplier<UUID> jobIds;
    @MockitoSpyBean
    JobInserts inserts;

    HttpJson http;

    @BeforeAll
    void refuseMarkedJobs() {
        jdbc.sql(TRIGGER).update();
    }

    @BeforeEach
    void client() {
        http = ApiTests.client(port);
    }

    @Nested
    class OverHttp {

        @Test
        void aBadSubmissionAmongManyGoodOnesIsRefusedAloneAndTheGoodOnesAreStored() throws Exception {
            var tag = "http-" + UUID.randomUUID();
            List<Future<HttpJson.Response>> good;
            Future<HttpJson.Response> bad;
            try (var held = holdInserts(); var threads = Executors.newVirtualThreadPerTaskExecutor()) {
                var blocker = threads.submit(() -> http.post("/v1/jobs", echo(tag, -1)));
                awaitWriterHeld(held);
                good = new ArrayList<>();
                for (var i = 0; i < 50; i++) {
                    var n = i;
                    good.add(threads.submit(() -> http.post("/v1/jobs", echo(tag, n))));
                }
                bad = threads.submit(() -> http.post("/v1/jobs",
                        "{\"type\": \"echo\", \"payload\": {\"tag\": \"" + tag + "\", \"s\": \"a\\u0000b\"}}"));
                await().atMost(Duration.ofSeconds(30)).until(() -> waiting() == 50);
                held.rollback();
                assertThat(blocker.get().status()).isEqualTo(202);
            }
            for (var response : good) {
                assertThat(response.get().status()).isEqualTo(202);
            }
            var refused = bad.get();
            assertThat(refused.status()).isEqualTo(400);
            assertThat(refused.json().get("errors").get(0).get("field").asString()).isEqualTo("payload.s");
            assertThat(stored(tag)).isEqualTo(51);
        }

        @Test
        void aBatchWithAnItemTheStoreRefusesIsA400NamingTheItemAndStoresNothing() {
            var response = http.post("/v1/jobs/batch", """
                    {"jobs": [{"type": "echo", "payload": {"tag": "batch-refused"}},
                              {"type": "echo", "payload": {"tag": "batch-refused"}},
                              {"type": "refused-by-store", "payload": {"tag": "batch-refused"}}]}""");

            assertThat(response.status()).isEqualTo(400);
            assertThat(response.contentType()).startsWith("application/problem+json");
            assertThat(response.json().get("errors").valueStream().map(e -> e.get("field").asString()))
                    .containsExactly("jobs[2]");
            assertThat(stored("batch-refused")).isZero();
        }

        @Test
        void aSingleSubmissionTheStoreRefusesIsA400() {
            var response = http.post("/v1/jobs", "{\"type\": \"refused-by-store\", \"payload\": {\"tag\": \"alone\"}}");

            assertThat(response.status()).isEqualTo(400);
            assertThat(response.contentType()).startsWith("application/problem+json");
            assertThat(response.json().get("detail").asString()).contains("refused by a test trigger");
            assertThat(stored("alone")).isZero();
        }
    }

    @Nested
    class BehindValidation {

        @Test
        void rowsTheStoreRefusesFailAloneAndTheirNeighboursAreStored() throws Exception {
            var tag = "coalesced-" + UUID.randomUUID();
            var good = new ArrayList<NewJob>();
            for (var i = 0; i < 50; i++) {
                good.add(job("echo", payload(tag, "n", "" + i), Instant.now(), null));
            }
            var bad = List.of(
                    job("echo", payload(tag, "s", "a\u0000b"), Instant.now(), null),
                    job("echo", payload(tag, "k\u0000", "x"), Instant.now(), null),
                    job("echo", payload(tag, "n", "-"), Instant.now(), "key\u0000" + tag),
                    job("echo", payload(tag, "n", "-"), Instant.parse("+300000-01-01T00:00:00Z"), null),
                    job("refused-by-store", payload(tag, "n", "-"), Instant.now(), null));

            var outcomes = submitHeldTogether(good, bad);

            for (var i = 0; i < good.size(); i++) {
                assertThat(outcomes.get(i)).isInstanceOf(InsertOutcome.Inserted.class);
            }
            for (var i = good.size(); i < outcomes.size(); i++) {
                assertThat(outcomes.get(i)).isInstanceOfSatisfying(ApiException.class,
                        e -> assertThat(e.status()).isEqualTo(HttpStatus.BAD_REQUEST));
            }
            assertThat(stored(tag)).isEqualTo(good.size());
        }

        @Test
        void aTransientStoreFailureFailsTheWholeInsertAndStoresNothingOfIt() throws Exception {
            var tag = "hiccup-" + UUID.randomUUID();
            var good = new ArrayList<NewJob>();
            for (var i = 0; i < 10; i++) {
                good.add(job("echo", payload(tag, "n", "" + i), Instant.now(), null));
            }
            var hiccup = List.of(job("store-hiccup", payload(tag, "n", "-"), Instant.now(), null));

            var outcomes = submitHeldTogether(good, hiccup);

            assertThat(outcomes).allSatisfy(o -> assertThat(o).isInstanceOf(StoreUnavailableException.class));
            assertThat(stored(tag)).isZero();
        }

        /**
         * The insert commits, then reading back the earlier jobs of the keys it skipped fails: the jobs it stored
         * are answered as stored, and only the replay gets the 503. Before, every submission coalesced with the
         * replay was told that nothing was stored, and the poller published their jobs all the same.
         */
        @Test
        void aReplayWhoseEarlierJobCannotBeReadBackFailsAloneAndTheStoredJobsAreAnsweredAsStored() throws Exception {
            var tag = "read-back-" + UUID.randomUUID();
            var key = "key-" + tag;
            var earlier = submitter.submit(job("echo", payload(tag, "n", "earlier"), Instant.now(), key));
            assertThat(earlier).isInstanceOf(InsertOutcome.Inserted.class);
            doThrow(new CannotGetJdbcConnectionException("no connection within the pool's timeout (a test)"))
                    .when(inserts).outcomes(argThat(jobs -> jobs.stream().anyMatch(j -> key.equals(j.idempotencyKey()))),
                            any(), any());
            var fresh = new ArrayList<NewJob>();
            for (var i = 0; i < 5; i++) {
                fresh.add(job("echo", payload(tag, "n", "" + i), Instant.now(), null));
            }

            var outcomes = submitHeldTogether(fresh, List.of(job("echo", payload(tag, "n", "earlier"), Instant.now(),
                    key)));

            for (var i = 0; i < fresh.size(); i++) {
                assertThat(outcomes.get(i)).isInstanceOf(InsertOutcome.Inserted.class);
            }
            assertThat(outcomes.getLast()).isInstanceOf(StoreUnavailableException.class);
            assertThat(stored(tag)).isEqualTo(1 + fresh.size());
        }

        @Test
        void aLoneRowTheStoreRefusesIsA400NotA503() {
            var job = job("echo", payload("lone", "s", "\u0000"), Instant.now(), null);

            var refused = catchThrowable(() -> submitter.submit(job));

            assertThat(refused).isInstanceOfSatisfying(ApiException.class,
                    e -> assertThat(e.status()).isEqualTo(HttpStatus.BAD_REQUEST));
        }
    }

    /**
     * The earlier job of a key is deleted (by the retention's cleaner) after the insert skipped the key and before the
     * earlier job was read back: the key is free again, and the submission stores its job, as it would have a moment
     * later. Before, a single submission got a 503 (and its retry a new job) and a batch a 500.
     */
    @Nested
    class KeyFreedBeforeTheReadBack {

        @Test
        void aSubmissionWhoseEarlierJobIsDeletedMeanwhileStoresANewJob() {
            var key = "freed-" + UUID.randomUUID();
            var earlier = http.post("/v1/jobs", echo(key, 1), "application/json", "Idempotency-Key", key);
            assertThat(earlier.status()).isEqualTo(202);
            deleteBeforeTheReadBack(key);

            var again = http.post("/v1/jobs", echo(key, 1), "application/json", "Idempotency-Key", key);

            assertThat(again.status()).as("%s", again.text()).isEqualTo(202);
            assertThat(again.header(SubmitController.REPLAYED)).isNull();
            var id = again.json().get("id").asString();
            assertThat(id).isNotEqualTo(earlier.json().get("id").asString());
            assertThat(keyed(key)).containsExactly(id);
            var replay = http.post("/v1/jobs", echo(key, 1), "application/json", "Idempotency-Key", key);
            assertThat(replay.status()).isEqualTo(200);
            assertThat(replay.json().get("id").asString()).isEqualTo(id);
        }

        @Test
        void aBatchItemWhoseEarlierJobIsDeletedMeanwhileStoresANewJob() {
            var key = "freed-" + UUID.randomUUID();
            var item = "{\"type\": \"echo\", \"idempotencyKey\": \"" + key + "\", \"payload\": {\"tag\": \"" + key
                    + "\"}}";
            var batch = "{\"jobs\": [" + item + ", {\"type\": \"echo\", \"payload\": {\"tag\": \"" + key + "\"}}]}";
            var earlier = http.post("/v1/jobs/batch", batch);
            assertThat(earlier.status()).isEqualTo(202);
            deleteBeforeTheReadBack(key);

            var again = http.post("/v1/jobs/batch", batch);

            assertThat(again.status()).as("%s", again.text()).isEqualTo(202);
            var id = again.json().get("jobs").get(0).get("id").asString();
            assertThat(id).isNotEqualTo(earlier.json().get("jobs").get(0).get("id").asString());
            assertThat(keyed(key)).containsExactly(id);
            assertThat(stored(key)).isEqualTo(3);
        }

        /** The next read-back of the key's earlier job (only the next) first deletes it, as the cleaner would then. */
        private void deleteBeforeTheReadBack(String key) {
            doAnswer(invocation -> {
                jdbc.sql("DELETE FROM jobs WHERE idempotency_key = :key").param("key", key).update();
                return invocation.callRealMethod();
            }).doCallRealMethod().when(inserts).outcomes(argThat(jobs -> jobs.stream().anyMatch(j -> key.equals(j.idempotencyKey()))),
                    any(), any());
        }

        private List<String> keyed(String key) {
            return jdbc.sql("SELECT id::text FROM jobs WHERE idempotency_key = :key").param("key", key)
                    .query(String.class).list();
        }
    }

    /** Submits every job on its own thread while the writer is held, so that all of them share one insert. */
    private List<Object> submitHeldTogether(List<NewJob> good, List<NewJob> bad) throws Exception {
        var all = new ArrayList<>(good);
        all.addAll(bad);
        var futures = new ArrayList<Future<Object>>();
        try (var held = holdInserts(); var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            var blocker = threads.submit(() -> submitter.submit(job("echo", payload("blocker", "n", "0"), Instant.now(),
                    null)));
            awaitWriterHeld(held);
            for (var job : all) {
                Callable<Object> submit = () -> {
                    try {
                        return submitter.submit(job);
                    } catch (RuntimeException e) {
                        return e;
                    }
                };
                futures.add(threads.submit(submit));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> waiting() == all.size());
            held.rollback();
            assertThat(blocker.get()).isInstanceOf(InsertOutcome.Inserted.class);
        }
        var outcomes = new ArrayList<>();
        for (var future : futures) {
            outcomes.add(future.get());
        }
        return outcomes;
    }

    /** A transaction whose lock on {@code jobs} makes every insert wait until it ends. */
    private HeldInserts holdInserts() throws Exception {
        var connection = dataSource.getConnection();
        connection.setAutoCommit(false);
        try (var statement = connection.createStatement()) {
            statement.execute("LOCK TABLE jobs IN SHARE MODE");
        }
        return new HeldInserts(connection);
    }

    private record HeldInserts(Connection connection) implements AutoCloseable {

        void rollback() throws Exception {
            connection.rollback();
        }

        @Override
        public void close() throws Exception {
            connection.rollback();
            connection.close();
        }
    }

    private void awaitWriterHeld(HeldInserts held) {
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.sql("""
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO jobs%'
                """).query(Long.class).single() == 1 && waiting() == 0);
    }

    private double waiting() {
        return meters.get("conveyor.jobs.insert.waiting").gauge().value();
    }

    private long stored(String tag) {
        return jdbc.sql("SELECT count(*) FROM jobs WHERE payload ->> 'tag' = :tag").param("tag", tag)
                .query(Long.class).single();
    }

    private static String echo(String tag, int n) {
        return "{\"type\": \"echo\", \"payload\": {\"tag\": \"" + tag + "\", \"n\": " + n + "}}";
    }

    private static ObjectNode payload(String tag, String field, String value) {
        var payload = Json.object();
        payload.put("tag", tag);
        payload.put(field, value);
        return payload;
    }

    private NewJob job(String type, ObjectNode payload, Instant runAt, String key) {
        var now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        var json = Json.write(payload);
        return new NewJob(jobIds.get(), "default", type, "default", json, 1, 60, runAt.isAfter(now) ? runAt : now,
                runAt.isAfter(now), key, key == null ? null : new RequestHash("hash", "hash"), now, json.length());
    }
}
