package dev.conveyor.common.handler;

import java.math.BigInteger;
import java.util.List;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.ValueDeserializer;
import tools.jackson.databind.deser.jdk.NumberDeserializers;
import tools.jackson.databind.deser.std.DelegatingDeserializer;
import tools.jackson.databind.module.SimpleModule;

/**
 * Integer fields of a typed handler's payload ({@code int}, {@code long}, {@code short}, {@code byte}, their boxes,
 * {@code BigInteger}) take a whole number however it is written ({@code 3}, {@code 3.0}, {@code 3e0}: a client's JSON
 * library may write any of them, as the api and the built-in handlers read theirs) and refuse a fraction: Jackson's
 * own reading cuts {@code 2.5} to 2, and {@code 1e-999999999} to 0, so that a job ran with a number nobody sent.
 */
final class WholeNumbers {

    private static final List<Class<?>> TYPES = List.of(int.class, Integer.class, long.class, Long.class, short.class,
            Short.class, byte.class, Byte.class, BigInteger.class);

    private WholeNumbers() {
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static SimpleModule module() {
        var module = new SimpleModule("conveyor-whole-numbers");
        for (var type : TYPES) {
            module.addDeserializer((Class) type, new Whole(NumberDeserializers.find(type)));
        }
        return module;
    }

    /** Jackson's own deserializer of the type, for anything but a number with a fraction. */
    private static final class Whole extends DelegatingDeserializer {

        Whole(ValueDeserializer<?> standard) {
            super(standard);
        }

        @Override
        protected ValueDeserializer<?> newDelegatingInstance(ValueDeserializer<?> standard) {
            return new Whole(standard);
        }

        @Override
        public Object deserialize(JsonParser parser, DeserializationContext context) {
            if (parser.hasToken(JsonToken.VALUE_NUMBER_FLOAT) && !isWhole(parser)) {
                return context.handleWeirdNumberValue(handledType(), parser.getNumberValue(), "not a whole number");
            }
            return super.deserialize(parser, context);
        }

        private static boolean isWhole(JsonParser parser) {
            if (parser.getNumberType() == JsonParser.NumberType.BIG_DECIMAL) {
                // exact, and cheap at any size: 1e999999999 strips nothing, 1e-999999999 keeps its scale
                var value = parser.getDecimalValue();
                return value.signum() == 0 || value.stripTrailingZeros().scale() <= 0;
            }
            var value = parser.getDoubleValue(); // a double or a float node, built by a handler's own test say
            return Double.isFinite(value) && value == Math.rint(value);
        }
    }
}
