package dev.conveyor.common.handler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.conveyor.common.Json;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.node.ObjectNode;

/**
 * A typed handler reads no number as something else: its integer fields take whole numbers exactly, however they are
 * written, and refuse a fraction by name (Jackson's own reading cut {@code 2.5} to 2, and {@code 1e-999999999} to 0,
 * and the job ran with a number nobody sent); its enum fields refuse a number. A result that cannot be written as
 * JSON fails for good, naming the place.
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

    enum Priority { LOW, MEDIUM, HIGH }

    record Ticket(Priority priority, Map<Priority, String> notes) {
    }

    private static final TypedJobHandler<Ticket, Ticket> TICKETS = new TypedJobHandler<>("ticket", Ticket.class) {
        @Override
        protected Ticket run(Ticket payload, JobContext context) {
            return payload;
        }
    };

    /**
     * An enum field takes a constant's name only: Jackson's own reading took a number (or digits in a string) for
     * the constant at that position, so that a client's {@code "priority": 1} (an IntEnum counted from 1, say) ran as
     * MEDIUM.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"priority\": 1, \"notes\": {}}| payload.priority",
            "{\"priority\": \"1\", \"notes\": {}}| payload.priority",
            "{\"priority\": 0, \"notes\": {}}| payload.priority",
            "{\"priority\": \"LOW\", \"notes\": {\"1\": \"x\"}}| payload.notes"})
    void anEnumFieldRefusesANumberNamingTheField(String payload, String field) {
        var failure = catchThrowableOfType(JobFailure.class, () -> TICKETS.payload(Json.tree(payload)));
        assertThat(failure).isNotNull();
        assertThat(failure.retryable()).isFalse();
        assertThat(failure.getMessage()).startsWith(field.strip() + ": ").contains("(the payload must fit Ticket)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"priority\": \"MEDIUM\", \"notes\": {\"HIGH\": \"x\"}}"})
    void anEnumFieldTakesAConstantsName(String payload) {
        assertThat(TICKETS.payload(Json.tree(payload))).isEqualTo(new Ticket(Priority.MEDIUM,
                Map.of(Priority.HIGH, "x")));
    }

    record Reading(double ratio, Float weight, boolean urgent, Boolean express, Instant due, OffsetDateTime sent,
            Duration pause, LocalDate day, Date legacy, char grade) {
    }

    private static final TypedJobHandler<Reading, Reading> READINGS = new TypedJobHandler<>("readings",
            Reading.class) {
        @Override
        protected Reading run(Reading payload, JobContext context) {
            return payload;
        }
    };

    private static final String READING = "{\"ratio\": 0.5, \"weight\": 2.5, \"urgent\": true, \"express\": false, "
            + "\"due\": \"2026-12-07T10:15:30Z\", \"sent\": \"2026-12-07T10:15:30+01:00\", \"pause\": \"PT30S\", "
            + "\"day\": \"2026-12-07\", \"legacy\": \"2026-12-07T10:15:30Z\", \"grade\": \"A\"}";

    private static String reading(String field, String value) {
        var tree = (ObjectNode) Json.tree(READING);
        tree.set(field, Json.tree(value));
        return tree.toString();
    }

    /**
     * A value that would change its meaning is refused, naming the field: text that is not a number ("NaN") into a
     * double, a number past a float's range (Infinity) or so small it becomes 0, a number into a boolean (5 was
     * true), a number or digits into an instant, a date or a duration (12345 was seconds since 1970, of a Duration
     * seconds, of a LocalDate days), a number into a char (65 was 'A').
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "ratio|\"NaN\"", "ratio|\"Infinity\"", "ratio|\"-Infinity\"", "ratio|1e-400", "ratio|\"1e-400\"",
            "weight|1e300", "weight|\"NaN\"", "weight|1e-60",
            "urgent|5", "urgent|0", "urgent|1", "express|1", "express|0.5",
            "due|12345", "due|12345.5", "due|\"12345\"", "due|-1",
            "sent|12345", "pause|5", "pause|\"5\"", "day|5", "legacy|12345", "legacy|\"12345\"", "grade|65",
            "grade|5"})
    void aValueThatWouldChangeItsMeaningIsRefusedNamingTheField(String field, String value) {
        var failure = catchThrowableOfType(JobFailure.class, () -> READINGS.payload(Json.tree(reading(field, value))));
        assertThat(failure).as("%s: %s", field, value).isNotNull();
        assertThat(failure.retryable()).isFalse();
        assertThat(failure.getMessage()).startsWith("payload." + field + ": ")
                .contains("(the payload must fit Reading)");
    }

    /** What keeps its meaning is still taken: a number as text, a double's rounding, "true" for true. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "ratio|\"12\"|12.0", "ratio|1e-300|1.0E-300", "ratio|0.1|0.1", "ratio|0|0.0", "ratio|-0.0|0.0",
            "weight|3.4e38|3.4E38", "weight|\"2.5\"|2.5", "urgent|\"true\"|true", "express|false|false",
            "grade|\"5\"|5"})
    void aValueThatKeepsItsMeaningIsTaken(String field, String value, String read) {
        var payload = READINGS.payload(Json.tree(reading(field, value)));
        var actual = switch (field) {
            case "ratio" -> payload.ratio();
            case "weight" -> payload.weight();
            case "urgent" -> payload.urgent();
            case "grade" -> payload.grade();
            default -> payload.express();
        };
        assertThat(String.valueOf(actual)).isEqualTo(read);
        assertThat(READINGS.payload(Json.tree(READING)).due()).isEqualTo(Instant.parse("2026-12-07T10:15:30Z"));
    }

    record Blanks(Boolean flag, Instant at, UUID id, Integer count, Double ratio, BigDecimal amount, String text) {
    }

    private static final TypedJobHandler<Blanks, Blanks> BLANKS = new TypedJobHandler<>("blanks", Blanks.class) {
        @Override
        protected Blanks run(Blanks payload, JobContext context) {
            return payload;
        }
    };

    /** Empty text is no value of these types: Jackson alone read it as null, as if the field had not been sent. */
    @ParameterizedTest
    @ValueSource(strings = {"flag", "at", "id", "count", "ratio", "amount"})
    void emptyTextIsRefusedWhereItIsNotText(String field) {
        var payload = (ObjectNode) Json.tree("{\"flag\": true, \"at\": \"2026-12-07T10:15:30Z\", \"id\": \""
                + UUID.randomUUID() + "\", \"count\": 1, \"ratio\": 0.5, \"amount\": 1, \"text\": \"\"}");
        assertThat(BLANKS.payload(payload).text()).isEmpty();
        payload.put(field, "");

        var failure = catchThrowableOfType(JobFailure.class, () -> BLANKS.payload(payload));

        assertThat(failure).as(field).isNotNull();
        assertThat(failure.retryable()).isFalse();
        assertThat(failure.getMessage()).startsWith("payload." + field + ": ");
    }

    record Box(Object inside) {
    }

    record Refusing(String name) {
        @Override
        public String name() {
            throw new IllegalStateException("not loaded");
        }
    }

    private static TypedJobHandler<Map<String, Object>, Object> returning(Object result) {
        @SuppressWarnings({"unchecked", "rawtypes"})
        Class<Map<String, Object>> type = (Class) Map.class;
        return new TypedJobHandler<>("returning", type) {
            @Override
            protected Object run(Map<String, Object> payload, JobContext context) {
                return result;
            }
        };
    }

    private static JobContext context() {
        return new JobContext(UUID.randomUUID(), "returning", "default", 1, 3, Json.object(),
                Instant.now().plusSeconds(30));
    }

    /**
     * A result that cannot be written as JSON fails its job for good, naming the place: Jackson's exception passed
     * for the handler's own, a retryable HANDLER_ERROR in several lines, and each attempt returned the same.
     */
    @Test
    void aResultThatCannotBeWrittenAsJsonFailsNotRetryablyNamingThePlace() {
        var nullKey = new HashMap<String, Object>();
        nullKey.put(null, 1);
        var cycle = new ArrayList<Object>();
        cycle.add(cycle);
        var cases = Map.of(
                "result.inside.null: Null key for a Map not allowed in JSON", new Box(nullKey),
                "result.inside: Infinite recursion", new Box(cycle),
                "result.inside.name: not loaded", new Box(new Refusing("x")));
        cases.forEach((message, result) -> {
            var failure = catchThrowableOfType(JobFailure.class, () -> returning(result).handle(context()));
            assertThat(failure).as(message).isNotNull();
            assertThat(failure.code()).isEqualTo("RESULT_INVALID");
            assertThat(failure.retryable()).isFalse();
            assertThat(failure.getMessage()).startsWith(message).doesNotContain("\n");
        });
    }

    @Test
    void aFailureThrownWhileTheResultIsWrittenIsTheHandlersOwn() {
        var failure = catchThrowableOfType(JobFailure.class, () -> returning(new Object() {
            public String getName() {
                throw new JobFailure("NOT_READY", "later", true, Duration.ofSeconds(5), null);
            }
        }).handle(context()));
        assertThat(failure.code()).isEqualTo("NOT_READY");
        assertThat(failure.retryable()).isTrue();
    }

    record Order(String currency) {
        Order {
            if (!"EUR".equals(currency)) {
                throw new JobFailure("UNSUPPORTED_CURRENCY", "only EUR for now, not " + currency, false, null, null);
            }
        }
    }

    /** The README: throw JobFailure for your own codes; from a payload's constructor too, not only from run(). */
    @Test
    void aFailureThrownByThePayloadsConstructorIsTheHandlersOwn() {
        var orders = new TypedJobHandler<Order, Order>("order", Order.class) {
            @Override
            protected Order run(Order payload, JobContext context) {
                return payload;
            }
        };
        var failure = catchThrowableOfType(JobFailure.class, () -> orders.payload(Json.tree("{\"currency\": \"USD\"}")));
        assertThat(failure.code()).isEqualTo("UNSUPPORTED_CURRENCY");
        assertThat(failure.getMessage()).isEqualTo("only EUR for now, not USD");
    }

    record Looping(String name) {
        Looping {
            var first = new IllegalStateException("first");
            var second = new IllegalStateException("second", first);
            first.initCause(second);
            throw first;
        }
    }

    /** Causes that lead back to each other: the walk to the root cause ended only when the thread was stopped. */
    @Test
    void aPayloadWhoseConstructorThrowsCausesThatLoopFailsNamingTheField() {
        var looping = new TypedJobHandler<Looping, Looping>("looping", Looping.class) {
            @Override
            protected Looping run(Looping payload, JobContext context) {
                return payload;
            }
        };
        var failure = CompletableFuture.supplyAsync(() -> catchThrowableOfType(JobFailure.class,
                () -> looping.payload(Json.tree("{\"name\": \"x\"}"))));
        assertThat(failure).succeedsWithin(Duration.ofSeconds(5)).satisfies(f -> assertThat(f.getMessage())
                .startsWith("payload").contains("(the payload must fit Looping)"));
    }

    /**
     * A refusal says what is wrong with the field, for the job's submitter to read: not how to configure Jackson
     * ("enabled using `CoercionConfig`", "set DeserializationFeature... to 'false' to allow"), which they cannot do.
     */
    @Test
    void aRefusalSaysWhatIsWrongWithTheFieldNotHowToConfigureJackson() {
        var blank = "{\"flag\": true, \"at\": \"2026-12-07T10:15:30Z\", \"id\": \"" + UUID.randomUUID()
                + "\", \"count\": 1, \"ratio\": 0.5, \"amount\": 1, \"text\": \"\"}";
        var refusals = new ArrayList<JobFailure>();
        for (var value : List.of("5", "0", "0.5", "\"\"", "\"yes\"", "[true]", "{}")) {
            refusals.add(catchThrowableOfType(JobFailure.class,
                    () -> READINGS.payload(Json.tree(reading("urgent", value)))));
        }
        for (var field : List.of("flag", "at", "id", "count", "ratio", "amount")) {
            var payload = (ObjectNode) Json.tree(blank);
            payload.put(field, "");
            refusals.add(catchThrowableOfType(JobFailure.class, () -> BLANKS.payload(payload)));
        }
        for (var value : List.of("null", "true", "[1]")) {
            refusals.add(catchThrowableOfType(JobFailure.class,
                    () -> HANDLER.payload(Json.tree(counts("small", value)))));
        }
        refusals.add(catchThrowableOfType(JobFailure.class,
                () -> TICKETS.payload(Json.tree("{\"priority\": 1, \"notes\": {}}"))));
        refusals.add(catchThrowableOfType(JobFailure.class,
                () -> TICKETS.payload(Json.tree("{\"priority\": \"URGENT\", \"notes\": {}}"))));

        assertThat(refusals).doesNotContainNull().allSatisfy(failure -> assertThat(failure.getMessage())
                .as(failure.getMessage()).startsWith("payload.")
                .doesNotContainIgnoringCase("CoercionConfig").doesNotContain("Feature").doesNotContain("to allow")
                .doesNotContainIgnoringCase("enable").doesNotContainIgnoringCase("disable"));
        assertThat(refusals.get(refusals.size() - 2).getMessage()).as("a number for an enum")
                .startsWith("payload.priority: ").contains("not a number");
    }

    record OrderLine(String sku, int quantity) {
    }

    record Basket(String customer, List<OrderLine> lines) {
    }

    private static final TypedJobHandler<Basket, Basket> BASKETS = new TypedJobHandler<>("baskets", Basket.class) {
        @Override
        protected Basket run(Basket payload, JobContext context) {
            return payload;
        }
    };

    /**
     * A field the record does not have, or one of its fields the payload does not have, is named in the submitter's
     * words, as the built-in handlers name theirs: Jackson's named the record's Java class ("Unrecognized property
     * "note" (class com.example.Basket), not marked as ignorable") and its own setting ("Missing creator property
     * 'lines' (index 1); `DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES` enabled").
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"customer\": \"a\", \"lines\": [], \"note\": 1}"
                    + "| payload.note: not a field of Basket (it has customer, lines)",
            "{\"customer\": \"a\", \"lines\": [{\"sku\": \"s\", \"quantity\": 1, \"colour\": \"red\"}]}"
                    + "| payload.lines[0].colour: not a field of OrderLine (it has quantity, sku)",
            "{\"customer\": \"a\"}| payload.lines: missing",
            "{\"customer\": \"a\", \"lines\": [{\"sku\": \"s\"}]}| payload.lines[0].quantity: missing"})
    void aFieldTooManyOrMissingIsNamedInTheSubmittersWords(String payload, String message) {
        var failure = catchThrowableOfType(JobFailure.class, () -> BASKETS.payload(Json.tree(payload)));

        assertThat(failure).isNotNull();
        assertThat(failure.retryable()).isFalse();
        assertThat(failure.getMessage()).isEqualTo(message.strip() + " (the payload must fit Basket)");
    }
}
