package dev.conveyor.worker.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.zaxxer.hikari.HikariDataSource;
import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.common.test.TestPostgres;
import dev.conveyor.worker.SqlSettings;
import dev.conveyor.worker.SqlSettings.Kind;
import dev.conveyor.worker.SqlSettings.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/** The {@code sql} handler on a real PostgreSQL database of its own. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SqlJobHandlerTest {

    private static final Map<String, Statement> STATEMENTS = Map.ofEntries(
            Map.entry("setup", new Statement("""
                    CREATE TABLE IF NOT EXISTS note (id bigint PRIMARY KEY, title text NOT NULL, done boolean,
                      price numeric(10, 2), ratio double precision, at timestamptz, day date, meta jsonb, tags text[])
                    """, Kind.UPDATE)),
            Map.entry("add-note", new Statement("INSERT INTO note (id, title, done, price, ratio, at, day, meta) "
                    + "VALUES (:id, :title, :done, :price, :ratio, :at, :day, :meta::jsonb)", Kind.UPDATE)),
            Map.entry("note", new Statement("SELECT id, title, done, price, ratio, at, day, meta, tags, "
                    + "'it''s :not a param' AS quoted FROM note WHERE id = :id", Kind.QUERY)),
            Map.entry("notes-titled", new Statement("SELECT id FROM note WHERE title = :title ORDER BY id", null)),
            Map.entry("all-notes", new Statement("SELECT id FROM note ORDER BY id", Kind.QUERY)),
            Map.entry("count-notes", new Statement("SELECT count(*)::int AS n FROM note", Kind.QUERY)),
            Map.entry("nap", new Statement("SELECT true AS slept FROM pg_sleep(:seconds)", Kind.QUERY)),
            Map.entry("odd-values", new Statement("SELECT 'NaN'::numeric AS nan, 'Infinity'::numeric AS up, "
                    + "'-Infinity'::numeric AS down, 1.50::numeric(4, 2) AS price, B'0101'::bit(4) AS flags, "
                    + "B'1'::bit(1) AS flag, B'110'::varbit AS bits, ARRAY['NaN'::numeric, 2.5] AS numbers, "
                    + "'{{1, Infinity}, {NaN, 0.10}}'::numeric[] AS grid",
                    Kind.QUERY)),
            Map.entry("arrays", new Statement("SELECT '{{1, 2}, {3, 4}}'::int[] AS grid, "
                    + "ARRAY['2026-11-28T10:15:30.123Z'::timestamptz] AS times, ARRAY['\\x0102'::bytea] AS blobs, "
                    + "ARRAY['{\"a\": 1}'::jsonb] AS docs, ARRAY['x', NULL] AS texts, ARRAY[true] AS flags, "
                    + "ARRAY['NaN'::float8, 1.5] AS ratios", Kind.QUERY)),
            Map.entry("times", new Statement("SELECT '24:00:00'::time AS end_of_day, '13:45:00'::time AS quarter, "
                    + "'00:00:00.000001'::time AS tick, ARRAY['24:00:00'::time] AS ends", Kind.QUERY)),
            Map.entry("text-of", new Statement(
                    "SELECT repeat('x', :length::int) AS body FROM generate_series(1, :rows::int)", Kind.QUERY)),
            Map.entry("json-docs", new Statement("SELECT :doc::jsonb AS details, ARRAY[:element::jsonb] AS docs",
                    Kind.QUERY)));

    private HikariDataSource pool;
    private SqlJobHandler handler;
    private final SqlSettings settings = new SqlSettings(TestPostgres.newDatabase(), "postgres", "", 3,
            Duration.ofSeconds(5), 5, STATEMENTS);

    @BeforeAll
    void start() throws Exception {
        pool = SqlConfiguration.pool(settings, SqlJobHandler.readLimit(1 << 20));
        handler = new SqlJobHandler(settings, pool, SqlJobHandler.readLimit(1 << 20));
        run("{\"statement\": \"setup\"}");
    }

    @AfterAll
    void stop() {
        pool.close();
    }

    private JsonNode run(String payload) throws Exception {
        return handler.handle(new JobContext(UUID.randomUUID(), "sql", "default", 1, 3, Json.tree(payload),
                Instant.now().plusSeconds(30)));
    }

    private JobFailure failure(String payload) {
        return catchThrowableOfType(JobFailure.class, () -> run(payload));
    }

    @Nested
    class NamedStatements {

        @Test
        void runsAnUpdateAndAnswersTheCount() throws Exception {
            var result = run("{\"statement\": \"add-note\", \"params\": {\"id\": 1, \"title\": \"one\", \"done\": true,"
                    + " \"price\": 12.5, \"ratio\": 0.25, \"at\": \"2026-11-28T10:15:30.123Z\", \"day\": \"2026-11-28\","
                    + " \"meta\": {\"a\": [1, \"x\"]}}}");
            assertThat(Json.write(result)).isEqualTo("{\"updated\":1}");
        }

        @Test
        void mapsColumnsToFaithfulJson() throws Exception {
            run("{\"statement\": \"add-note\", \"params\": {\"id\": 2, \"title\": \"two\", \"done\": false,"
                    + " \"price\": 3.10, \"ratio\": 1.5, \"at\": \"2026-11-28T10:15:30.123Z\", \"day\": \"2026-01-02\","
                    + " \"meta\": {\"n\": 7, \"ok\": true}}}");
            var result = run("{\"statement\": \"note\", \"params\": {\"id\": 2}}");
            assertThat(result.get("rowCount").asInt()).isEqualTo(1);
            // numeric keeps its scale (3.10); timestamptz is an ISO instant in UTC; jsonb is JSON, not text
            assertThat(Json.write(result.get("rows").get(0))).isEqualTo("{\"id\":2,\"title\":\"two\",\"done\":false,"
                    + "\"price\":3.10,\"ratio\":1.5,\"at\":\"2026-11-28T10:15:30.123Z\",\"day\":\"2026-01-02\","
                    + "\"meta\":{\"n\":7,\"ok\":true},\"tags\":null,\"quoted\":\"it's :not a param\"}");
        }

        @Test
        void mapsWhatJsonHasNoNumberForToText() throws Exception {
            // again and again: from its fifth run on a connection, pgjdbc prepares it on the server (binary results)
            for (var run = 0; run < 20; run++) {
                var row = run("{\"statement\": \"odd-values\"}").get("rows").get(0);
                // numeric's NaN and infinities as double precision's are; a bit string longer than a bit as its digits
                assertThat(Json.write(row)).isEqualTo("{\"nan\":\"NaN\",\"up\":\"Infinity\",\"down\":\"-Infinity\","
                        + "\"price\":1.50,\"flags\":\"0101\",\"flag\":true,\"bits\":\"110\",\"numbers\":[\"NaN\",2.5],"
                        + "\"grid\":[[1,\"Infinity\"],[\"NaN\",0.10]]}");
            }
        }

        @Test
        void mapsTimesOfDayAsTheyAreStoredTheEndOfTheDayIncluded() throws Exception {
            // again and again: from its fifth run on a connection, pgjdbc prepares it on the server (binary results)
            for (var run = 0; run < 20; run++) {
                var row = run("{\"statement\": \"times\"}").get("rows").get(0);
                assertThat(Json.write(row)).as("run %d", run).isEqualTo("{\"end_of_day\":\"24:00\","
                        + "\"quarter\":\"13:45\",\"tick\":\"00:00:00.000001\",\"ends\":[\"24:00\"]}");
            }
        }

        @Test
        void mapsArrayElementsAsColumnsInAnyNumberOfDimensions() throws Exception {
            // again and again: from its fifth run on a connection, pgjdbc prepares it on the server (binary results)
            for (var run = 0; run < 20; run++) {
                var row = run("{\"statement\": \"arrays\"}").get("rows").get(0);
                assertThat(Json.write(row)).isEqualTo("{\"grid\":[[1,2],[3,4]],"
                        + "\"times\":[\"2026-11-28T10:15:30.123Z\"],\"blobs\":[\"AQI=\"],\"docs\":[{\"a\":1}],"
                        + "\"texts\":[\"x\",null],\"flags\":[true],\"ratios\":[\"NaN\",1.5]}");
            }
        }

        @Test
        void bindsNullsAsNull() throws Exception {
            run("{\"statement\": \"add-note\", \"params\": {\"id\": 3, \"title\": \"three\", \"done\": null,"
                    + " \"price\": null, \"ratio\": null, \"at\": null, \"day\": null, \"meta\": null}}");
            var row = run("{\"statement\": \"note\", \"params\": {\"id\": 3}}").get("rows").get(0);
            assertThat(row.get("done").isNull()).isTrue();
            assertThat(row.get("at").isNull()).isTrue();
            assertThat(row.get("meta").isNull()).isTrue();
        }

        @Test
        void keepsHostileStringsAsValues() throws Exception {
            var hostile = "x'); DROP TABLE note; --";
            run("{\"statement\": \"add-note\", \"params\": {\"id\": 4, \"title\": " + Json.write(hostile)
                    + ", \"done\": null, \"price\": null, \"ratio\": null, \"at\": null, \"day\": null, \"meta\": null}}");
            var found = run("{\"statement\": \"notes-titled\", \"params\": {\"title\": " + Json.write(hostile) + "}}");
            assertThat(Json.write(found.get("rows"))).isEqualTo("[{\"id\":4}]");
            assertThat(run("{\"statement\": \"count-notes\"}").get("rows").get(0).get("n").asInt()).isPositive();
        }
    }

    @Nested
    class Failures {

        @Test
        void refusesAnUnknownStatementFinallyNamingTheKnownOnes() {
            var failure = failure("{\"statement\": \"DROP TABLE note\"}");
            assertThat(failure.retryable()).isFalse();
            assertThat(failure.getMessage()).contains("unknown statement 'DROP TABLE note'", "add-note", "note");
        }

        @Test
        void refusesAMissingParameterFinallyNamingIt() {
            var failure = failure("{\"statement\": \"note\", \"params\": {}}");
            assertThat(failure.retryable()).isFalse();
            assertThat(failure.getMessage()).contains("payload.params.id is missing");
        }

        @Test
        void refusesAParameterTheStatementDoesNotTake() {
            var failure = failure("{\"statement\": \"note\", \"params\": {\"id\": 1, \"idd\": 2}}");
            assertThat(failure.retryable()).isFalse();
            assertThat(failure.getMessage()).contains("payload.params.idd is not a parameter");
        }

        @Test
        void refusesFinallyANumberBeyondADouble() {
            // a job record need not come through the api, which refuses such numbers
            var failure = failure("{\"statement\": \"note\", \"params\": {\"id\": -1e999999}}");
            assertThat(failure.code()).isEqualTo("HANDLER_ERROR");
            assertThat(failure.retryable()).isFalse();
            assertThat(failure.getMessage()).contains("payload.params.id");
        }

        @Test
        void failsFinallyWhenAValueDoesNotFitItsColumn() {
            var failure = failure("{\"statement\": \"note\", \"params\": {\"id\": \"not a number\"}}");
            assertThat(failure.code()).isEqualTo("SQL_ERROR");
            assertThat(failure.retryable()).isFalse();
            assertThat(failure.getMessage()).contains("SQLSTATE 22");
        }

        /**
         * jsonb past what the JSON reader takes fails as RESULT_INVALID, as jsonb nested 300 deep does (the result's
         * check), not retryably with the reader's message: every attempt would read the same row.
         */
        @Test
        void failsFinallyAsAResultThatCannotBeStoredWhenAJsonColumnIsPastTheReadersLimits() {
            var nested = Json.write("[".repeat(600) + "]".repeat(600));
            var deep = failure("{\"statement\": \"json-docs\", \"params\": {\"doc\": " + nested
                    + ", \"element\": \"1\"}}");
            assertThat(deep.code()).isEqualTo("RESULT_INVALID");
            assertThat(deep.retryable()).isFalse();
            assertThat(deep).hasMessage("result.rows[0].details is nested deeper than 500 levels: column details of "
                    + "statement 'json-docs' holds JSON that cannot be stored");

            var tiny = failure("{\"statement\": \"json-docs\", \"params\": {\"doc\": \"{\\\"n\\\": 1e-5000}\", "
                    + "\"element\": \"1\"}}");
            assertThat(tiny.code()).isEqualTo("RESULT_INVALID");
            assertThat(tiny.retryable()).isFalse();
            assertThat(tiny).hasMessage("result.rows[0].details holds a number longer than 1000 characters written out "
                    + "in full: column details of statement 'json-docs' holds JSON that cannot be stored");

            var inArray = failure("{\"statement\": \"json-docs\", \"params\": {\"doc\": \"1\", \"element\": "
                    + nested + "}}");
            assertThat(inArray.code()).isEqualTo("RESULT_INVALID");
            assertThat(inArray).hasMessageStartingWith("result.rows[0].docs is nested deeper than 500 levels");
        }

        @Test
        void failsFinallyWhenAQueryAnswersMoreRowsThanTheCap() throws Exception {
            for (var id = 100; id < 106; id++) {
                run("{\"statement\": \"add-note\", \"params\": {\"id\": " + id + ", \"title\": \"many\", \"done\": null,"
                        + " \"price\": null, \"ratio\": null, \"at\": null, \"day\": null, \"meta\": null}}");
            }
            var failure = failure("{\"statement\": \"all-notes\"}");
            assertThat(failure.retryable()).isFalse();
            assertThat(failure.getMessage()).contains("more than 5 rows", "conveyor.worker.sql.max-rows");
        }
    }

    /** A statement whose answer is past what a result may hold is refused as it arrives, not read whole. */
    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class ReadLimit {

        private static final int MAX_RESULT_BYTES = 65_536;

        private HikariDataSource small;
        private SqlJobHandler limited;

        @BeforeAll
        void start() {
            small = SqlConfiguration.pool(settings, SqlJobHandler.readLimit(MAX_RESULT_BYTES));
            limited = new SqlJobHandler(settings, small, SqlJobHandler.readLimit(MAX_RESULT_BYTES));
        }

        @AfterAll
        void stop() {
            small.close();
        }

        private JsonNode text(int length, int rows) throws Exception {
            return limited.handle(new JobContext(UUID.randomUUID(), "sql", "default", 1, 3, Json.tree(
                    "{\"statement\": \"text-of\", \"params\": {\"length\": " + length + ", \"rows\": " + rows + "}}"),
                    Instant.now().plusSeconds(30)));
        }

        @Test
        void failsFinallyAsTooLargeWhenOneValueIsPastTwiceTheResultLimit() throws Exception {
            for (var length : new int[] {131_073, 64_000_000}) {
                var failure = catchThrowableOfType(JobFailure.class, () -> text(length, 1));
                assertThat(failure.code()).as(failure.getMessage()).isEqualTo("RESULT_TOO_LARGE");
                assertThat(failure.retryable()).isFalse();
                assertThat(failure).hasMessage("statement 'text-of' answered more than 131072 bytes of values, "
                        + "twice the most a result may take encoded (conveyor.worker.max-result-bytes); "
                        + "narrow it or page it");
            }
            // every connection of the pool still answers
            for (var i = 0; i < 2 * settings.poolSize(); i++) {
                assertThat(text(10, 2).get("rowCount").asInt()).isEqualTo(2);
            }
        }

        @Test
        void countsTheValuesOfEveryRow() {
            var failure = catchThrowableOfType(JobFailure.class, () -> text(30_000, 5));
            assertThat(failure.code()).as(failure.getMessage()).isEqualTo("RESULT_TOO_LARGE");
        }

        @Test
        void readsAnAnswerUnderTheLimit() throws Exception {
            var result = text(60_000, 1);
            assertThat(result.get("rows").get(0).get("body").asString()).hasSize(60_000);
        }
    }

    @Nested
    class Concurrency {

        @Test
        void neverRunsMoreStatementsAtOnceThanThePoolHolds() throws Exception {
            var most = new AtomicInteger();
            try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
                var running = threads.submit(() -> {
                    for (var i = 0; i < 40; i++) {
                        most.accumulateAndGet(pool.getHikariPoolMXBean().getActiveConnections(), Math::max);
                        java.util.concurrent.locks.LockSupport.parkNanos(25_000_000);
                    }
                    return null;
                });
                var jobs = java.util.stream.IntStream.range(0, 12).mapToObj(i -> threads.submit(() ->
                        run("{\"statement\": \"nap\", \"params\": {\"seconds\": 0.2}}"))).toList();
                for (var job : jobs) {
                    assertThat(job.get().get("rows").get(0).get("slept").asBoolean()).isTrue();
                }
                running.get();
            }
            assertThat(most.get()).isBetween(1, 3);
            assertThat(pool.getHikariPoolMXBean().getThreadsAwaitingConnection()).isZero();
        }
    }
}
