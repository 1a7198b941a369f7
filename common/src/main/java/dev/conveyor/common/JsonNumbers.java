package dev.conveyor.common;

import java.math.BigDecimal;
import java.math.BigInteger;
import tools.jackson.databind.JsonNode;

/**
 * How long a JSON number becomes on its way through Conveyor. PostgreSQL's {@code jsonb} keeps numbers exactly (as
 * {@code numeric}) and writes them back out in full, without an exponent: {@code 1e300} comes back as 301 digits,
 * {@code 1e-400} as 402 characters. Jackson, and with it the worker and most clients, refuses to read a number
 * longer than {@link #MAX_CHARS}, and {@code numeric} refuses more than 16,383 digits after the point; so every
 * number Conveyor stores, from a payload or from a result, is at most {@link #MAX_CHARS} characters written out.
 */
public final class JsonNumbers {

    /** The longest number stored, written out in full: Jackson's default limit for reading one. */
    public static final int MAX_CHARS = 1000;

    private JsonNumbers() {
    }

    /** How long {@code value} is written out in full, without an exponent, as PostgreSQL writes a numeric. */
    public static long plainLength(BigDecimal value) {
        long sign = value.signum() < 0 ? 1 : 0;
        long scale = value.scale();
        long precision = value.precision();
        return sign + (scale <= 0 ? precision - scale : Math.max(1, precision - scale) + 1 + scale);
    }

    /** Whether {@code value} written out in full is at most {@link #MAX_CHARS} long. */
    public static boolean storable(BigDecimal value) {
        return plainLength(value) <= MAX_CHARS;
    }

    /** Whether {@code value} written out in full is at most {@link #MAX_CHARS} long. */
    public static boolean storable(BigInteger value) {
        // a cheap bound first: 3,400 bits are over 1,000 digits, whose count costs a conversion
        return value.bitLength() < 3_300 || (value.bitLength() < 3_400 && storable(new BigDecimal(value)));
    }

    /**
     * The value of {@code node} when it is a whole number from {@code min} to {@code max}, written as an integer or not
     * ({@code 3}, {@code 3.0}, {@code 3e0}: a client's JSON library may write any of them), else null: a fraction, a
     * number out of range, or not a number. Exact, whatever its size: an integer of a thousand digits is out of range,
     * and 2.9999999999999999 is not 3.
     */
    public static Long wholeIn(JsonNode node, long min, long max) {
        if (node == null || !node.isNumber() || node.isDouble() || node.isFloat()) {
            return null; // a double: NaN, or a number read without its exact value
        }
        try {
            var value = node.isIntegralNumber() ? new BigDecimal(node.bigIntegerValue()) : node.decimalValue();
            if (value.compareTo(BigDecimal.valueOf(min)) < 0 || value.compareTo(BigDecimal.valueOf(max)) > 0
                    || value.stripTrailingZeros().scale() > 0) {
                return null;
            }
            return value.longValueExact();
        } catch (ArithmeticException e) {
            return null; // a scale past an int's range: 1e-2147483648, say
        }
    }
}
