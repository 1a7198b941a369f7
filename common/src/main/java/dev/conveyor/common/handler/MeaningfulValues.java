package dev.conveyor.common.handler;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.ZonedDateTime;
import java.util.Calendar;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.BeanDescription;
import tools.jackson.databind.DeserializationConfig;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.ValueDeserializer;
import tools.jackson.databind.deser.ValueDeserializerModifier;
import tools.jackson.databind.deser.jdk.NumberDeserializers;
import tools.jackson.databind.deser.std.DelegatingDeserializer;
import tools.jackson.databind.module.SimpleModule;

/**
 * Typed fields of a payload refuse a value that Jackson's reading would turn into another meaning, where Jackson's
 * coercion settings cannot say so (the boolean rule is one: {@link TypedJobHandler}). A {@code double} or
 * {@code float} (and their boxes) refuses text that is not a number ({@code "NaN"}, {@code "Infinity"}), a number
 * past its range (1e300 into a float was Infinity) and a number so small that it would be 0 (1e-400 into a double);
 * it still takes a number written as text ({@code "12.5"}) and rounds as Java does. An instant, a date, a time or a
 * duration ({@code java.time}'s, {@code Date}, {@code Calendar}) refuses a number, or digits as text: Jackson read
 * 12345 as seconds since 1970 for an Instant, as days for a LocalDate, as seconds for a Duration, where the client may
 * have meant milliseconds, or nothing of the kind. A {@code char} refuses a number (Jackson took 65 for 'A').
 */
final class MeaningfulValues {

    private static final List<Class<?>> FLOATS = List.of(double.class, Double.class, float.class, Float.class);
    private static final List<Class<?>> CHARACTERS = List.of(char.class, Character.class);
    private static final List<Class<?>> TIMES = List.of(Instant.class, OffsetDateTime.class, ZonedDateTime.class,
            LocalDate.class, LocalDateTime.class, LocalTime.class, OffsetTime.class, Duration.class, Date.class,
            Calendar.class);
    /** How each time type is written, for the message that refuses a number (an instant for the others). */
    private static final Map<Class<?>, String> EXAMPLES = Map.of(Duration.class, "PT30S", LocalDate.class,
            "2026-12-07", LocalDateTime.class, "2026-12-07T10:15:30", LocalTime.class, "10:15:30", OffsetTime.class,
            "10:15:30+01:00", OffsetDateTime.class, "2026-12-07T10:15:30+01:00", ZonedDateTime.class,
            "2026-12-07T10:15:30+01:00[Europe/Paris]");
    /** A JSON number written as text, as Jackson's readers of time take it for one. */
    private static final Pattern NUMBER = Pattern.compile("\\s*[-+]?\\d+(\\.\\d*)?([eE][-+]?\\d+)?\\s*");

    private MeaningfulValues() {
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static SimpleModule module() {
        var module = new SimpleModule("conveyor-meaningful-values");
        for (var type : FLOATS) {
            module.addDeserializer((Class) type, new Finite(NumberDeserializers.find(type)));
        }
        for (var type : CHARACTERS) {
            // a number is a code point to Jackson: 65 was 'A'; a digit as text ("5") is a character
            module.addDeserializer((Class) type, new NotANumber(NumberDeserializers.find(type), false));
        }
        module.setDeserializerModifier(new ValueDeserializerModifier() {
            @Override
            public ValueDeserializer<?> modifyDeserializer(DeserializationConfig config,
                    BeanDescription.Supplier description, ValueDeserializer<?> deserializer) {
                var type = description.getBeanClass();
                return TIMES.stream().anyMatch(time -> time.isAssignableFrom(type)) ? new NotANumber(deserializer, true)
                        : deserializer;
            }
        });
        return module;
    }

    /** Jackson's own deserializer of a floating-point type, for any value that stays what it was. */
    private static final class Finite extends DelegatingDeserializer {

        Finite(ValueDeserializer<?> standard) {
            super(standard);
        }

        @Override
        protected ValueDeserializer<?> newDelegatingInstance(ValueDeserializer<?> standard) {
            return new Finite(standard);
        }

        @Override
        public Object deserialize(JsonParser parser, DeserializationContext context) {
            var value = super.deserialize(parser, context);
            if (!(value instanceof Number number)) {
                return value;
            }
            var read = number.doubleValue();
            var text = parser.hasToken(JsonToken.VALUE_STRING);
            if (!Double.isFinite(read)) {
                return text
                        ? context.handleWeirdStringValue(handledType(), parser.getString(), "not a finite number")
                        : context.handleWeirdNumberValue(handledType(), parser.getNumberValue(),
                                "beyond the range of " + handledType().getSimpleName());
            }
            if (read == 0 && !isZero(parser, text)) {
                return context.handleWeirdNumberValue(handledType(), text ? read : parser.getNumberValue(),
                        "so small that it would be 0 as " + handledType().getSimpleName());
            }
            return value;
        }

        private static boolean isZero(JsonParser parser, boolean text) {
            if (text) {
                try {
                    return new BigDecimal(parser.getString().strip()).signum() == 0;
                } catch (NumberFormatException e) {
                    return true; // not a number Jackson read: its own business
                }
            }
            if (parser.hasToken(JsonToken.VALUE_NUMBER_FLOAT)
                    && parser.getNumberType() == JsonParser.NumberType.BIG_DECIMAL) {
                return parser.getDecimalValue().signum() == 0;
            }
            return parser.getDoubleValue() == 0; // an integer, or a double node a handler's own test built
        }
    }

    /** Jackson's own deserializer of a time type (or a character), for anything but a number (or digits as text). */
    private static final class NotANumber extends DelegatingDeserializer {

        private final boolean digitsToo;

        NotANumber(ValueDeserializer<?> standard, boolean digitsToo) {
            super(standard);
            this.digitsToo = digitsToo;
        }

        @Override
        protected ValueDeserializer<?> newDelegatingInstance(ValueDeserializer<?> standard) {
            return new NotANumber(standard, digitsToo);
        }

        @Override
        public Object deserialize(JsonParser parser, DeserializationContext context) {
            if (parser.hasToken(JsonToken.VALUE_NUMBER_INT) || parser.hasToken(JsonToken.VALUE_NUMBER_FLOAT)) {
                return context.handleWeirdNumberValue(handledType(), parser.getNumberValue(), advice());
            }
            if (digitsToo && parser.hasToken(JsonToken.VALUE_STRING) && NUMBER.matcher(parser.getString()).matches()) {
                return context.handleWeirdStringValue(handledType(), parser.getString(), advice());
            }
            return super.deserialize(parser, context);
        }

        private String advice() {
            if (!digitsToo) {
                return "a number is not a character; write it as text";
            }
            return "a number has no unit here; write it as ISO-8601 text (" + EXAMPLES.getOrDefault(handledType(),
                    "2026-12-07T10:15:30Z") + ")";
        }
    }
}
