package dev.conveyor.common.handler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.conveyor.common.Json;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A typed handler's integer fields take whole numbers exactly, however they are written, and refuse a fraction by
 * name: Jackson's own reading cut {@code 2.5} to 2 (and {@code 1e-999999999} to 0), and the job ran with a number
 * nobody sent.
 */
class TypedJobHandlerTest {

    record Counts(int small, long large, Integer boxed, short tiny, BigInteger huge, List<Long> list,
            Map<String, Byte> map) {
    }

    private static final TypedJobHandler<Counts, Counts> HANDLER = new TypedJobHandler<>("counts", Counts.class) {
        @Override
        protected Counts run(Counts payload, JobContext context) {
            return payload;
        }
    };

    private static String counts(String field, String value) {
        var json = "{\"small\": 1, \"large\": 1, \"boxed\": 1, \"tiny\": 1, \"huge\": 1, \"list\": [1], \"map\": {\"k\": 1}}";
        return field.equals("list") ? json.replace("[1]", "[" + value + "]")
                : field.equals("map") ? json.replace("{\"k\": 1}", "{\"k\": " + value + "}")
                : json.replace("\"" + field + "\": 1", "\"" + field + "\": " + value);
    }

    @ParameterizedTest
    @ValueSource(strings = {"small", "large", "boxed", "tiny", "huge", "list", "map"})
    void anIntegerFieldRefusesAFractionNamingTheField(String field) {
        for (var fraction : List.of("2.5", "-0.5", "1e-999999999", "7.000000000000000000001")) {
            var failure = catchThrowableOfType(JobFailure.class,
                    () -> HANDLER.payload(Json.tree(counts(field, fraction))));
            assertThat(failure).as("%s: %s", field, fraction).isNotNull();
            assertThat(failure.retryable()).isFalse();
            assertThat(failure.getMessage()).as(fraction).startsWith("payload." + field)
                    .contains("not a whole number", "(the payload must fit Counts)");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"small", "large", "boxed", "tiny", "huge", "list", "map"})
    void anIntegerFieldTakesAWholeNumberWrittenWithAFractionOrAnExponent(String field) {
        for (var whole : List.of("3", "3.0", "3e0", "0.3e1", "300e-2")) {
            var counts = HANDLER.payload(Json.tree(counts(field, whole)));
            assertThat(Json.MAPPER.valueToTree(counts).findValues(field).getFirst().toString()).as(whole)
                    .isIn("3", "[3]", "{\"k\":3}");
        }
    }
}
