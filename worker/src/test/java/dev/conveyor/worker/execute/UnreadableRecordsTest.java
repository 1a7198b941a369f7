package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.common.JobLimits;
import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import dev.conveyor.common.message.JobFinished;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/** A job record no api would write is rejected alone: nothing runs, nothing is reported, the next record runs. */
class UnreadableRecordsTest {

    private final AtomicInteger runs = new AtomicInteger();
    private final RunnerTesting testing = new RunnerTesting(new JobHandler() {
        @Override
        public String type() {
            return "echo";
        }

        @Override
        public JsonNode handle(JobContext context) {
            runs.incrementAndGet();
            return context.payload();
        }
    });

    private static String job(String field, String value) {
        var fields = new java.util.LinkedHashMap<String, String>();
        fields.put("v", "1");
        fields.put("jobId", "\"" + UUID.randomUUID() + "\"");
        fields.put("type", "\"echo\"");
        fields.put("queue", "\"default\"");
        fields.put("attempt", "1");
        fields.put("maxAttempts", "3");
        fields.put("timeoutSeconds", "30");
        fields.put("payload", "{}");
        fields.put("dispatchedAt", "\"2026-11-28T10:00:00Z\"");
        fields.put("generation", "0");
        if (value == null) {
            fields.remove(field);
        } else {
            fields.put(field, value);
        }
        var json = new StringBuilder("{");
        fields.forEach((name, v) -> json.append(json.length() > 1 ? "," : "").append('"').append(name).append("\":")
                .append(v));
        return json.append('}').toString();
    }

    /** A payload nested {@code levels} deep, itself the first level. */
    private static String nested(int levels) {
        return "{\"d\":" + "[".repeat(levels - 1) + "]".repeat(levels - 1) + "}";
    }

    static Stream<String> unreadable() {
        return Stream.of(
                null, "", "not json", "[]", "{}", "\"a string\"", "{\"v\":1}",
                job("v", "2"), job("v", null), job("jobId", "\"not-a-uuid\""), job("jobId", null),
                job("type", "\"Echo\""), job("type", "\"echo\\u0000\""), job("type", "\"\""), job("type", "{}"),
                job("type", null),
                job("queue", "\"../etc\""),
                job("attempt", "-5"), job("attempt", "0"), job("maxAttempts", "0"),
                // an attempt no api dispatches (maxAttempts 3), which would win over the one running
                job("attempt", "2147483647"), job("attempt", String.valueOf(3 + JobLimits.MAX_ATTEMPTS_UNCHARGED + 1)),
                job("timeoutSeconds", "1000000000000"), job("timeoutSeconds", "0"), job("timeoutSeconds", "86401"),
                job("timeoutSeconds", "-1"), job("timeoutSeconds", "\"soon\""),
                job("payload", "[1,2]"), job("payload", "\"text\""), job("payload", "null"),
                job("payload", "{\"deep\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}"),
                job("payload", "{\"n\":" + "9".repeat(5_000) + "}"),
                // short text, past what the api accepts: BigDecimal arithmetic on 1e-999999999 works out a billion
                // digits, and a handler that adds to it runs out of time or memory, the worker's with it
                job("payload", "{\"n\":1e999999999}"), job("payload", "{\"n\":1e-999999999}"),
                job("payload", "{\"a\":[{\"n\":-1e309}]}"), job("payload", "{\"n\":1e-1000}"),
                job("payload", nested(481)),
                job("generation", "-1"));
    }

    @ParameterizedTest
    @MethodSource("unreadable")
    void rejectsAnUnreadableOrAbsurdRecordWithoutRunningOrReportingIt(String value) throws Exception {
        var taken = testing.take(RunnerTesting.record("key", value));

        assertThat(taken).isEqualTo(AcknowledgeType.REJECT);
        assertThat(testing.events.sent).isEmpty();
        assertThat(runs).hasValue(0);
    }

    @Test
    void runsTheNextRecordAfterAnUnreadableOne() throws Exception {
        assertThat(testing.take(RunnerTesting.record("key", job("timeoutSeconds", "0")))).isEqualTo(
                AcknowledgeType.REJECT);
        var good = RunnerTesting.dispatch("echo", Json.object().put("n", 1), 30);

        assertThat(testing.take(good)).isEqualTo(AcknowledgeType.ACCEPT);
        var finished = await().until(() -> testing.events.finished(good.jobId()), f -> f != null);
        assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.SUCCEEDED);
    }

    @Test
    void runsARecordAtTheEdgesOfWhatIsAllowed() throws Exception {
        var good = Json.read(job("timeoutSeconds", "86400"), dev.conveyor.common.message.JobDispatch.class);
        assertThat(testing.take(good)).isEqualTo(AcknowledgeType.ACCEPT);
        await().until(() -> testing.events.finished(good.jobId()) != null);
    }

    @Test
    void runsAPayloadAtTheEdgesOfWhatTheApiAccepts() throws Exception {
        for (var payload : new String[] {nested(480), "{\"n\":1.7976931348623157e308,\"m\":-1e-990}"}) {
            var good = Json.read(job("payload", payload), dev.conveyor.common.message.JobDispatch.class);
            assertThat(testing.take(good)).isEqualTo(AcknowledgeType.ACCEPT);
            await().until(() -> testing.events.finished(good.jobId()) != null);
        }
    }
}
