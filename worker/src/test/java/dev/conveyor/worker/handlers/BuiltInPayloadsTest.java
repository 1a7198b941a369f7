package dev.conveyor.worker.handlers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.common.handler.JobHandler;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The built-in {@code sleep} and {@code fail} (and the test-only {@code halt}) read their payloads strictly, as the
 * contract says: an unknown field, a value of the wrong type or a number out of range (beyond a long, fractional,
 * written with an exponent) fails the attempt for good, naming the field, never retryably in Jackson's words.
 */
class BuiltInPayloadsTest {

    private static JobContext context(String type, int attempt, String payload) {
        return new JobContext(UUID.randomUUID(), type, "default", attempt, 3, Json.tree(payload),
                Instant.now().plusSeconds(10));
    }

    private static JobFailure failure(JobHandler handler, int attempt, String payload) {
        var failure = catchThrowableOfType(JobFailure.class,
                () -> handler.handle(context(handler.type(), attempt, payload)));
        assertThat(failure).as("the failure of %s", payload).isNotNull();
        assertThat(failure.code()).isEqualTo("HANDLER_ERROR");
        return failure;
    }

    @Nested
    class Sleep {

        private final SleepHandler sleep = new SleepHandler();

        @Test
        void sleepsTheMillisecondsItIsGiven() throws Exception {
            assertThat(Json.write(sleep.handle(context("sleep", 1, "{\"ms\": 1}")))).isEqualTo("{\"sleptMs\":1}");
        }

        @Test
        void refusesAnUnknownFieldNamingIt() {
            var failure = failure(sleep, 1, "{\"ms\": 10, \"bogus\": 1}");

            assertThat(failure.retryable()).isFalse();
            assertThat(failure).hasMessage("payload.bogus is not a field of a sleep job (it has ms)");
        }

        /** A whole number is one however it is written, as the api reads maxAttempts: JavaScript writes 1, Python 1.0. */
        @ParameterizedTest
        @ValueSource(strings = {"1", "1.0", "1.000", "1e0", "0.1e1", "10E-1"})
        void sleepsAWholeNumberOfMillisecondsWrittenWithAFractionOrAnExponent(String ms) throws Exception {
            assertThat(Json.write(sleep.handle(context("sleep", 1, "{\"ms\": " + ms + "}"))))
                    .isEqualTo("{\"sleptMs\":1}");
        }

        @ParameterizedTest
        @ValueSource(strings = {"99999999999999999999", "1e20", "1.5", "10.01", "1e-3", "-1", "3600001", "\"10\"",
                "true", "{}"})
        void refusesMsThatIsNotAnIntegerInRangeNamingTheRange(String ms) {
            var failure = failure(sleep, 1, "{\"ms\": " + ms + "}");

            assertThat(failure.retryable()).isFalse();
            assertThat(failure).hasMessage("payload.ms must be an integer from 0 to 3600000");
        }

        @Test
        void refusesAPayloadWithoutMs() {
            var failure = failure(sleep, 1, "{}");

            assertThat(failure.retryable()).isFalse();
            assertThat(failure).hasMessage("payload.ms is required: an integer from 0 to 3600000");
        }
    }

    @Nested
    class Fail {

        private final FailHandler fail = new FailHandler();

        @Test
        void failsRetryablyWithItsMessageUntilTheAttemptItNames() throws Exception {
            var payload = "{\"message\": \"not yet\", \"retryable\": true, \"untilAttempt\": 2}";
            var failure = failure(fail, 1, payload);
            assertThat(failure.retryable()).isTrue();
            assertThat(failure).hasMessage("not yet");

            assertThat(Json.write(fail.handle(context("fail", 2, payload)))).isEqualTo("{\"attempt\":2}");
        }

        @Test
        void failsWithTheDefaultsWhenGivenNothing() {
            var failure = failure(fail, 1, "{\"message\": null, \"retryable\": null}");

            assertThat(failure.retryable()).isTrue();
            assertThat(failure).hasMessage("fail");
        }

        @Test
        void failsForGoodWhenNotRetryable() {
            assertThat(failure(fail, 1, "{\"retryable\": false}").retryable()).isFalse();
        }

        @Test
        void refusesAnUnknownFieldNamingIt() {
            var failure = failure(fail, 5, "{\"untilAttempt\": 1, \"bogus\": 1}");

            assertThat(failure.retryable()).isFalse();
            assertThat(failure).hasMessage("payload.bogus is not a field of a fail job (it has message, retryable, "
                    + "untilAttempt)");
        }

        /** 1.5 was read as 1 (and succeeded), 2^70 and 1e20 failed every attempt retryably in Jackson's words. */
        @ParameterizedTest
        @ValueSource(strings = {"99999999999999999999", "1e20", "1.5", "0", "-3", "2147483648", "\"2\"", "[]"})
        void refusesUntilAttemptThatIsNotAnIntegerInRangeNamingTheRange(String until) {
            var failure = failure(fail, 2, "{\"untilAttempt\": " + until + "}");

            assertThat(failure.retryable()).isFalse();
            assertThat(failure).hasMessage("payload.untilAttempt must be an integer from 1 to 2147483647");
        }

        @Test
        void refusesAMessageThatIsNotText() {
            var failure = failure(fail, 1, "{\"message\": {\"text\": \"no\"}}");

            assertThat(failure.retryable()).isFalse();
            assertThat(failure).hasMessage("payload.message must be text");
        }

        @Test
        void refusesRetryableThatIsNotABoolean() {
            var failure = failure(fail, 1, "{\"retryable\": \"no\"}");

            assertThat(failure.retryable()).isFalse();
            assertThat(failure).hasMessage("payload.retryable must be true or false");
        }
    }

    @Nested
    class Halt {

        private final AtomicInteger status = new AtomicInteger(-1);
        private final HaltHandler halt = new HaltHandler(status::set);

        @Test
        void refusesAnUnknownFieldWithoutHalting() {
            var failure = failure(halt, 1, "{\"afterMs\": 0, \"bogus\": 1}");

            assertThat(failure.retryable()).isFalse();
            assertThat(failure).hasMessage("payload.bogus is not a field of a halt job (it has afterMs)");
            assertThat(status).hasValue(-1);
        }

        @ParameterizedTest
        @ValueSource(strings = {"99999999999999999999", "1e20", "1.5", "-1"})
        void refusesAfterMsThatIsNotAnIntegerInRangeWithoutHalting(String after) {
            var failure = failure(halt, 1, "{\"afterMs\": " + after + "}");

            assertThat(failure.retryable()).isFalse();
            assertThat(failure).hasMessage("payload.afterMs must be an integer from 0 to 3600000");
            assertThat(status).hasValue(-1);
        }
    }
}
