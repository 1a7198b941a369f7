package dev.conveyor.api.fuzz;

import java.math.BigInteger;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Hostile pieces of JSON, written as text so that they can be what no JSON library would write: lone surrogates,
 * NUL, numbers past any range, nesting a hundred thousand deep.
 */
final class Hostile {

    private Hostile() {
    }

    /** A JSON string literal of {@code text}: every control character and every surrogate written as an escape. */
    static String quote(String text) {
        var out = new StringBuilder(text.length() + 2).append('"');
        for (var i = 0; i < text.length(); i++) {
            var c = text.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20 || Character.isSurrogate(c)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    /** Strings of any UTF-16 units: NUL, controls, lone surrogates, private use, noncharacters. */
    static Arbitrary<String> anyText() {
        return Arbitraries.oneOf(
                Arbitraries.strings().all().ofMaxLength(40),
                Arbitraries.of("", "\u0000", "a\u0000b", "\ud800", "\udfff", "x\udc00y", "\ud83d", "\ufeff", "\uffff",
                        "\u2028\u2029", "\u202e", "%00", "../../etc/passwd", "'; DROP TABLE jobs; --", "${jndi:x}",
                        "<script>", "\r\nX-Injected: 1"),
                Arbitraries.strings().withChars('a', 'Z', '9', '.', '-', '_').ofMinLength(1000).ofMaxLength(70_000));
    }

    /** Numbers as JSON can write them and no Java number holds: huge, tiny, long. */
    static Arbitrary<String> extremeNumbers() {
        return Arbitraries.oneOf(
                Arbitraries.of("1e999999", "-1e999999", "1e-999999", "1E400", "-0", "0.5", "1.5", "-1", "0",
                        "1208925819614629174706176", "-1208925819614629174706176", "9223372036854775808",
                        "2147483648", "4294967297", "1e309", "1.7976931348623157E309", "4.9E-325"),
                Arbitraries.bigIntegers().between(BigInteger.TWO.pow(31), BigInteger.TWO.pow(200)).map(String::valueOf),
                // Jackson reads numbers of up to 1000 digits; longer ones make the body unreadable (named "body")
                Arbitraries.integers().between(50, 1000).map(n -> "9".repeat(n)),
                Arbitraries.integers().between(-1_000_000_000, -1).map(String::valueOf));
    }

    /** Text that is not JSON, or not a whole JSON value. */
    static Arbitrary<String> notJson() {
        return Arbitraries.oneOf(
                Arbitraries.of("", " ", "NaN", "Infinity", "-Infinity", "undefined", "{", "}", "[", "{\"type\"",
                        "{\"type\":}", "{\"type\":\"echo\",}", "{'type':'echo'}", "{type:\"echo\"}",
                        "{\"type\":\"echo\"}}", "{\"type\":\"echo\"} {}", "{\"type\":\"echo\"} x", "/* */{}",
                        "{\"type\":\"ec\\x\"}", "{\"type\":\"\\ud800\"", "\"\\u00\"", "{\"a\":01}", "{\"a\":.5}",
                        "{\"a\":+1}", "{\"a\":1.}", "{\"a\":0x10}", "{\"a\":tru}", "{\"type\":\"echo\"\u0000}"),
                Arbitraries.integers().between(501, 100_000).map(n -> "[".repeat(n)),
                Arbitraries.integers().between(501, 20_000).map(n -> "{\"a\":".repeat(n) + "1" + "}".repeat(n)),
                Arbitraries.integers().between(501, 20_000).map(n -> "[".repeat(n) + "]".repeat(n)));
    }

    /** A JSON value of any type, many of them hostile. */
    static Arbitrary<String> anyValue() {
        return Arbitraries.oneOf(
                anyText().map(Hostile::quote),
                extremeNumbers(),
                Arbitraries.of("true", "false", "[]", "{}", "[null]", "[1,2]", "{\"a\":1}", "\"\"", "[[[[[[]]]]]]"),
                Arbitraries.integers().between(10, 400).map(n -> "[".repeat(n) + "]".repeat(n)));
    }

    /** Keys, the same ways. */
    static Arbitrary<String> anyKey() {
        // Jackson reads names of up to 50,000 characters; longer ones make the body unreadable (named "body")
        return anyText().filter(key -> key.length() <= 1000 && !SubmitCases.FIELDS.contains(key));
    }

    /** A byte array that is rarely UTF-8, let alone JSON. */
    static Arbitrary<byte[]> garbageBytes() {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(2000)
                .filter(bytes -> bytes[0] != '{' && bytes[0] != ' ');
    }

    static <T> Arbitrary<List<T>> listOf(Arbitrary<T> items, int min, int max) {
        return items.list().ofMinSize(min).ofMaxSize(max);
    }

    static Arbitrary<String> pair(Arbitrary<String> keys, Arbitrary<String> values) {
        return Combinators.combine(keys, values).as((k, v) -> quote(k) + ":" + v);
    }
}
