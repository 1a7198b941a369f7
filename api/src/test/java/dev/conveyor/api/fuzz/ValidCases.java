package dev.conveyor.api.fuzz;

import static dev.conveyor.api.fuzz.Hostile.quote;

import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Odd but valid submit requests, all to {@link FuzzedApi#VALID_QUEUE}: payloads of any storable text (emoji, RTL
 * marks, line separators, controls other than NUL), huge integers, tiny and huge doubles, deep nesting within the
 * limit, and every optional field at the edges of its range. Each must be accepted.
 */
final class ValidCases {

    private static final AtomicLong keys = new AtomicLong();

    private ValidCases() {
    }

    static Arbitrary<String> submissions() {
        var optional = List.of(
                Arbitraries.integers().between(1, 100).map(n -> "\"maxAttempts\":" + n).optional(0.5),
                Arbitraries.oneOf(Arbitraries.integers().between(1, 86_400).map(String::valueOf),
                        Arbitraries.of("1.0", "86400", "8.64e4")).map(n -> "\"timeoutSeconds\":" + n).optional(0.5),
                Arbitraries.oneOf(
                        Arbitraries.of("0", "31536000", "-0", "0.0", "0e-400", "1.000e3")
                                .map(n -> "\"delaySeconds\":" + n),
                        Arbitraries.of("1970-01-01T00:00:00Z", "2026-01-01T00:00:00.123456789+14:00",
                                "9999-12-31T23:59:59.999Z", "-000001-01-01T00:00:00Z")
                                .map(at -> "\"runAt\":" + quote(at)),
                        Arbitraries.create(Instant::now).map(at -> "\"runAt\":" + quote(at.toString()))).optional(0.5),
                Hostile.anyText().filter(ValidCases::isPrintableKey).map(key -> "\"idempotencyKey\":"
                        + quote(keys.incrementAndGet() + key)).optional(0.3));
        return Combinators.combine(types(), payloads(), Combinators.combine(optional).as(list -> list))
                .as((type, payload, extras) -> {
                    var fields = new ArrayList<String>();
                    fields.add("\"type\":" + quote(type));
                    fields.add("\"queue\":" + quote(FuzzedApi.VALID_QUEUE));
                    fields.add("\"payload\":" + payload);
                    extras.forEach(extra -> extra.ifPresent(fields::add));
                    return "{" + String.join(",", fields) + "}";
                });
    }

    static Arbitrary<String> batches() {
        return submissions().list().ofMinSize(1).ofMaxSize(20)
                .map(items -> "{\"jobs\":[" + String.join(",", items) + "]}");
    }

    private static Arbitrary<String> types() {
        var first = Arbitraries.chars().range('a', 'z').range('0', '9');
        var rest = Arbitraries.strings().withCharRange('a', 'z').withCharRange('0', '9').withChars('.', '_', '-')
                .ofMaxLength(99);
        return Combinators.combine(first, rest).as((f, r) -> f + r);
    }

    /** Storable text: no NUL, no unpaired surrogate (each becomes {@code ?}); anything else goes, within 500 units. */
    private static Arbitrary<String> storableText() {
        return Arbitraries.oneOf(
                Hostile.anyText().map(t -> storable(t.length() > 500 ? t.substring(0, 500) : t)),
                Arbitraries.of("😀", "👩‍👩‍👧", "\u202eevil", "\u2028", "\ufeff", "\u0001\u001f\u007f", "'; DROP TABLE jobs;--",
                        "\\u0000", "𝕏", "\uffff", "\r\nX-Injected: 1"));
    }

    private static String storable(String text) {
        var out = new StringBuilder(text.length());
        for (var i = 0; i < text.length(); i++) {
            var c = text.charAt(i);
            var paired = Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1));
            if (paired) {
                out.append(c).append(text.charAt(++i));
            } else {
                out.append(c == '\u0000' || Character.isSurrogate(c) ? '?' : c);
            }
        }
        return out.toString();
    }

    private static Arbitrary<String> leaves() {
        return Arbitraries.oneOf(
                storableText().map(Hostile::quote),
                Arbitraries.bigIntegers().between(BigInteger.TEN.pow(900).negate(),
                        BigInteger.TEN.pow(900)).map(String::valueOf),
                Arbitraries.doubles().map(String::valueOf),
                Arbitraries.of("1.7976931348623157E308", "-1.7976931348623157E308", "4.9E-324", "-0.0", "1e-300",
                        "0", "true", "false", "null"));
    }

    /**
     * Objects of leaves, arrays and objects, three levels deep (at most 27 leaves of at most 500 characters, far
     * under the 256 KiB limit), or one chain of arrays up to 400 deep (the api reads 500 levels).
     */
    private static Arbitrary<String> payloads() {
        var value = Arbitraries.recursive(ValidCases::leaves, inner -> Arbitraries.oneOf(
                inner.list().ofMaxSize(3).map(items -> "[" + String.join(",", items) + "]"),
                Combinators.combine(storableText().map(Hostile::quote).list().ofMaxSize(3).uniqueElements(),
                        inner.list().ofSize(3))
                        .as((names, values) -> {
                            var members = new ArrayList<String>();
                            for (var i = 0; i < names.size(); i++) {
                                members.add(names.get(i) + ":" + values.get(i));
                            }
                            return "{" + String.join(",", members) + "}";
                        })), 0, 3);
        return Arbitraries.oneOf(
                value.map(v -> "{\"v\":" + v + "}"),
                Arbitraries.integers().between(1, 400).map(n -> "{\"deep\":" + "[".repeat(n) + "]".repeat(n) + "}"));
    }

    /** The api's rule for keys: 1 to 255 printable characters; kept short to leave room for the counter. */
    private static boolean isPrintableKey(String key) {
        return key.length() <= 200 && key.codePoints().noneMatch(c -> Character.isISOControl(c)
                || Character.getType(c) == Character.LINE_SEPARATOR
                || Character.getType(c) == Character.PARAGRAPH_SEPARATOR || Character.getType(c) == Character.SURROGATE);
    }
}
