package dev.conveyor.api.fuzz;

import static dev.conveyor.api.fuzz.Hostile.quote;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/** Bodies for {@code POST /v1/jobs} and {@code POST /v1/jobs/batch}: each breaks exactly one rule of the contract. */
final class SubmitCases {

    static final Set<String> FIELDS = Set.of("type", "queue", "payload", "maxAttempts", "timeoutSeconds", "runAt",
            "delaySeconds", "idempotencyKey");
    private static final Pattern TYPE = Pattern.compile("[a-z0-9][a-z0-9._-]{0,99}");
    /** A field name written with a surrogate escape, e.g. {@code "k\udfffk":}. */
    private static final Pattern SURROGATE_KEY = Pattern.compile("\\\\u[dD][89a-fA-F][0-9a-fA-F]{2}[^\"]*\":");
    private static final Pattern PRINTABLE = Pattern.compile("[^\\p{Cntrl}\\p{Zl}\\p{Zp}\\p{Cs}]{1,255}");

    private SubmitCases() {
    }

    /**
     * One submit request as fields (name to JSON text), in order, with the field at fault: the answer names it, or
     * {@code body} when the fault is one Jackson may refuse to read at all (an unpaired surrogate in a field name).
     */
    record Broken(Map<String, String> fields, String field, boolean tooLarge) {

        List<String> named() {
            return fields.keySet().stream().anyMatch(SubmitCases::hasUnpairedSurrogate)
                    || field.startsWith("payload") && SURROGATE_KEY.matcher(fields.get("payload")).find()
                    ? List.of(field, "body") : List.of(field);
        }

        String json() {
            var out = new StringBuilder("{");
            fields.forEach((name, value) -> out.append(out.length() > 1 ? "," : "").append(quote(name)).append(':')
                    .append(value));
            return out.append('}').toString();
        }
    }

    /** A valid request with one field made invalid: wrong type, out of range, unstorable, unknown. */
    static Arbitrary<Broken> broken() {
        return Arbitraries.oneOf(
                field("type", nonStrings().injectNull(0.05),
                        Hostile.anyText().filter(t -> !TYPE.matcher(t).matches()).map(Hostile::quote)),
                field("queue", nonStrings(), Hostile.anyText().filter(q -> !q.equals("default")
                        && !q.equals(FuzzedApi.VALID_QUEUE)).map(Hostile::quote)),
                field("payload", nonObjects(), unstorablePayloads()),
                outOfRange("maxAttempts", 1, 100),
                outOfRange("timeoutSeconds", 1, 86_400),
                outOfRange("delaySeconds", 0, 31_536_000),
                field("runAt", nonStrings(), Hostile.anyText().filter(t -> !isInstant(t))
                        .map(Hostile::quote), Arbitraries.of("\"+10000-01-01T00:00:00Z\"", "\"2026-13-01T00:00:00Z\"",
                        "\"2026-02-30T00:00:00Z\"", "\"2026-01-01T00:00:00\"", "\"2026-01-01T00:00:00Z\\u0000\"",
                        "\"+999999999-12-31T23:59:59Z\"")),
                field("idempotencyKey", nonStrings(), Hostile.anyText().filter(k -> !PRINTABLE.matcher(k).matches())
                        .map(Hostile::quote)),
                Combinators.combine(Hostile.anyKey(), Hostile.anyValue())
                        .as((key, value) -> withField(key, value, key, false)),
                Arbitraries.integers().between(0, 100).map(seconds -> {
                    var fields = base();
                    fields.put("runAt", "\"2030-01-01T00:00:00Z\"");
                    fields.put("delaySeconds", String.valueOf(seconds));
                    return new Broken(fields, "delaySeconds", false);
                }),
                Arbitraries.integers().between(262_145, 400_000).map(size -> withField("payload",
                        "{\"s\":" + quote("x".repeat(size)) + "}", "payload", true)));
    }

    /** A whole body that is not a submit request: not JSON, not an object, too deep. */
    static Arbitrary<String> notARequest() {
        return Arbitraries.oneOf(Hostile.notJson(),
                Hostile.anyValue().filter(v -> !v.startsWith("{")),
                truncated());
    }

    /** A valid request cut short anywhere: never a whole JSON object. */
    private static Arbitrary<String> truncated() {
        return broken().flatMap(request -> {
            var json = request.json();
            return Arbitraries.integers().between(1, json.length() - 1).map(end -> json.substring(0, end));
        });
    }

    /** A batch with one item broken, or its frame broken; the field the answer must name. */
    static Arbitrary<Map.Entry<String, List<String>>> brokenBatches() {
        var items = Arbitraries.integers().between(1, 6);
        var withBrokenItem = Combinators.combine(broken(), items, Arbitraries.integers().between(0, 5))
                .as((bad, count, at) -> {
                    var index = at % count;
                    var list = new ArrayList<String>();
                    for (var i = 0; i < count; i++) {
                        list.add(i == index ? bad.json() : "{\"type\":\"echo\"}");
                    }
                    var named = bad.named().stream().map(f -> f.equals("body") ? f : "jobs[" + index + "]." + f).toList();
                    return Map.entry("{\"jobs\":[" + String.join(",", list) + "]}", named);
                });
        var badFrame = Arbitraries.oneOf(
                Hostile.anyValue().filter(v -> !v.startsWith("[")).map(v -> Map.entry("{\"jobs\":" + v + "}",
                        List.of("jobs"))),
                Arbitraries.of(Map.entry("{\"jobs\":[]}", List.of("jobs")), Map.entry("{}", List.of("jobs")),
                        Map.entry("{\"jobs\":[" + "{\"type\":\"echo\"},".repeat(1000) + "{\"type\":\"echo\"}]}",
                                List.of("jobs"))),
                Combinators.combine(Hostile.anyKey().filter(k -> !k.equals("jobs")), Hostile.anyValue())
                        .as((k, v) -> Map.entry("{\"jobs\":[{\"type\":\"echo\"}]," + quote(k) + ":" + v + "}",
                                hasUnpairedSurrogate(k) ? List.of(k, "body") : List.of(k))),
                Hostile.anyValue().filter(v -> !v.startsWith("{")).map(v -> Map.entry("{\"jobs\":[" + v + "]}",
                        List.of("jobs[0]"))));
        return Arbitraries.oneOf(withBrokenItem, badFrame);
    }

    static boolean hasUnpairedSurrogate(String text) {
        for (var i = 0; i < text.length(); i++) {
            var c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static LinkedHashMap<String, String> base() {
        var fields = new LinkedHashMap<String, String>();
        fields.put("type", "\"echo\"");
        fields.put("queue", "\"default\"");
        return fields;
    }

    private static Broken withField(String name, String value, String field, boolean tooLarge) {
        var fields = base();
        fields.put(name, value);
        return new Broken(fields, field, tooLarge);
    }

    @SafeVarargs
    private static Arbitrary<Broken> field(String name, Arbitrary<String>... badValues) {
        return Arbitraries.oneOf(List.of(badValues)).map(value -> withField(name, value, name, false));
    }

    private static Arbitrary<Broken> outOfRange(String name, long min, long max) {
        var numbers = Arbitraries.oneOf(Hostile.extremeNumbers(),
                Arbitraries.longs().between(Long.MIN_VALUE / 2, min - 1).map(String::valueOf),
                Arbitraries.longs().between(max + 1, Long.MAX_VALUE).map(String::valueOf),
                Arbitraries.doubles().between(min, max).filter(d -> d != Math.rint(d)).map(String::valueOf))
                .filter(number -> !isWholeIn(number, min, max));
        return field(name, numbers, nonNumbers());
    }

    /** As the api reads a number: exactly, whole ({@code 3.0}, {@code 3e0}) and within the range. */
    static boolean isWholeIn(String number, long min, long max) {
        var exact = new BigDecimal(number);
        return exact.stripTrailingZeros().scale() <= 0 && exact.compareTo(BigDecimal.valueOf(min)) >= 0
                && exact.compareTo(BigDecimal.valueOf(max)) <= 0;
    }

    private static boolean isInstant(String text) {
        try {
            return OffsetDateTime.parse(text).getYear() <= 9999;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static Arbitrary<String> nonStrings() {
        return Hostile.anyValue().filter(v -> !v.startsWith("\""));
    }

    private static Arbitrary<String> nonNumbers() {
        return Hostile.anyValue().filter(v -> v.startsWith("\"") || v.startsWith("[") || v.startsWith("{")
                || v.equals("true") || v.equals("false"));
    }

    private static Arbitrary<String> nonObjects() {
        return Hostile.anyValue().filter(v -> !v.startsWith("{"));
    }

    /** Objects holding one value PostgreSQL cannot store, somewhere inside. */
    private static Arbitrary<String> unstorablePayloads() {
        var bad = Arbitraries.oneOf(
                Arbitraries.of("\"\\u0000\"", "\"a\\u0000\"", "\"\\ud800\"", "\"\\udfff\"", "\"x\\udc00\"", "1e400",
                        "-1e400", "1e999999", "[1e309]"),
                Hostile.anyText().filter(t -> t.indexOf('\u0000') >= 0).map(Hostile::quote));
        var badKey = Arbitraries.of("\\u0000", "\\ud800", "k\\udfffk");
        var depth = Arbitraries.integers().between(0, 30);
        return Arbitraries.oneOf(
                Combinators.combine(bad, depth).as((value, d) -> "{\"a\":" + "[".repeat(d) + value + "]".repeat(d)
                        + "}"),
                Combinators.combine(badKey, depth).as((key, d) -> "{" + "\"b\":{".repeat(d) + "\"" + key + "\":1"
                        + "}".repeat(d) + "}"));
    }
}
