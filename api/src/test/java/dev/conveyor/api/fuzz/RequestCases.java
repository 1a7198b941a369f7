package dev.conveyor.api.fuzz;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/** Hostile paths, query parameters, methods and headers for every route of {@code /v1}. */
final class RequestCases {

    private static final Set<String> STATUSES = Set.of("SCHEDULED", "QUEUED", "RUNNING", "SUCCEEDED", "FAILED",
            "CANCELLED");
    private static final String BAD_SUBMIT = "{\"type\":\"Bad\"}";
    /**
     * A transfer coding Tomcat does not implement (anything but chunked) is answered 501, as RFC 9112 section 6.1
     * says it should be: the one 5xx a client can cause (README, "Fuzz test"). Bad chunks are a 400.
     */
    private static final Case.Refused UNKNOWN_CODING_OR_BAD_CHUNKS = new Case.Refused(Set.of(400, 501), List.of());

    private RequestCases() {
    }

    /** {@code GET /v1/jobs/{id}?wait=}, cancel and retry, with a hostile id or wait: always a 4xx. */
    static Arbitrary<Case> jobPaths() {
        var byId = Combinators.combine(ids(), Arbitraries.of("", "/cancel", "/retry"))
                .as((id, action) -> Case.request(action.isEmpty() ? "GET" : "POST", "/v1/jobs/" + id + action,
                        List.of(), null, Case.refused(null)));
        var byWait = Combinators.combine(waits().filter(RequestCases::fitsInARequestLine),
                Arbitraries.create(UUID::randomUUID)).as((wait, id) -> {
            var valid = isValidWait(wait);
            return Case.request("GET", "/v1/jobs/" + id + "?wait=" + encode(wait), List.of(), null,
                    valid ? Case.refused(null, 404) : Case.refused("wait", 400));
        });
        return Arbitraries.oneOf(byId, byWait);
    }

    /** {@code GET /v1/jobs} with every filter valid or hostile; answered 200 only when all are valid. */
    static Arbitrary<Case> listQueries() {
        var params = List.of(
                param("status", Arbitraries.of(STATUSES), Hostile.anyText().filter(s -> !STATUSES.contains(s))),
                // an empty queue or type filter is refused too: it matched nothing
                param("queue", Hostile.anyText().filter(s -> !s.isEmpty() && s.indexOf('\u0000') < 0),
                        Arbitraries.oneOf(Hostile.anyText().map(s -> s + "\u0000"), Arbitraries.just(""))),
                param("type", Hostile.anyText().filter(s -> !s.isEmpty() && s.indexOf('\u0000') < 0),
                        Arbitraries.oneOf(Hostile.anyText().map(s -> "\u0000" + s), Arbitraries.just(""))),
                param("limit", Arbitraries.integers().between(1, 500).map(String::valueOf),
                        Arbitraries.oneOf(Hostile.extremeNumbers(), Hostile.anyText()).filter(s -> !isLimit(s))),
                param("after", Arbitraries.create(UUID::randomUUID).map(RequestCases::cursor),
                        Arbitraries.oneOf(Hostile.anyText(), forgedCursors()).filter(s -> !isCursor(s))));
        return Combinators.combine(params).as(chosen -> {
            var query = new StringBuilder();
            String invalid = null;
            for (var p : chosen) {
                if (p.isPresent()) {
                    var param = p.get();
                    query.append(query.isEmpty() ? "?" : "&").append(param.name()).append('=')
                            .append(encode(param.value()));
                    if (!param.valid() && invalid == null) {
                        invalid = param.name();
                    }
                }
            }
            return Case.request("GET", "/v1/jobs" + query, List.of(), null,
                    invalid == null ? new Case.Accepted() : Case.refused(invalid, 400));
        });
    }

    /** Read-only routes with junk queries (ignored: 200), unknown routes (404) and wrong methods (405). */
    static Arbitrary<Case> otherRoutes() {
        var junk = Hostile.anyText().filter(RequestCases::fitsInARequestLine);
        var junkQueries = Combinators.combine(Arbitraries.of("/v1/queues", "/v1/workers", "/v1/stats"),
                junk, junk).as((route, key, value) -> Case.request("GET",
                        route + "?" + encode(key) + "=" + encode(value), List.of(), null, new Case.Accepted()));
        var unknownRoutes = Combinators.combine(Arbitraries.of("/v1/", "/v2/", "/nope-", "/actuator/nope-",
                "/v1/jobs/" + UUID.randomUUID() + "/"), Hostile.anyText().filter(RequestCases::isUnknownSegment),
                Arbitraries.of("GET", "POST", "PUT", "DELETE", "PATCH"))
                .as((prefix, segment, method) -> Case.request(method, prefix + encode(segment), List.of(),
                        method.equals("GET") ? null : new byte[0], Case.refused(null)));
        var hugeCursors = Arbitraries.integers().between(1_000, 20_000)
                .map(n -> Case.request("GET", "/v1/jobs?after=" + "QUFB".repeat(n), List.of(), null,
                        Case.refused(null, 400)));
        var wrongMethods = Combinators.combine(
                Arbitraries.of("PUT", "DELETE", "PATCH", "TRACE", "FOO", "PROPFIND", "M-SEARCH"),
                Arbitraries.of("/v1/jobs", "/v1/jobs/batch", "/v1/jobs/" + UUID.randomUUID(),
                        "/v1/jobs/" + UUID.randomUUID() + "/cancel", "/v1/jobs/" + UUID.randomUUID() + "/retry",
                        "/v1/queues", "/v1/workers", "/v1/stats"))
                .as((method, route) -> Case.request(method, route, List.of("Content-Type: application/json"),
                        SubmitCases.utf8("{\"type\":\"echo\"}"), Case.refused(null, 405)));
        var getOnPosts = Arbitraries.of("/v1/jobs/batch", "/v1/jobs/" + UUID.randomUUID() + "/cancel",
                "/v1/jobs/" + UUID.randomUUID() + "/retry")
                .map(route -> Case.request("GET", route, List.of(), null, Case.refused(null, 400, 404, 405)));
        var postOnGets = Arbitraries.of("/v1/queues", "/v1/workers", "/v1/stats", "/v1/jobs/" + UUID.randomUUID())
                .map(route -> Case.request("POST", route, List.of("Content-Type: application/json"),
                        SubmitCases.utf8("{}"), Case.refused(null, 405)));
        return Arbitraries.oneOf(junkQueries, unknownRoutes, wrongMethods, getOnPosts, postOnGets, hugeCursors);
    }

    /**
     * Hostile headers on requests that are refused anyway (an invalid submission or batch, an unknown job, a bad
     * limit), so every answer must be a 4xx: Content-Type, Accept and Idempotency-Key of any bytes, CR and LF inside
     * values, huge headers, and a Content-Length or Transfer-Encoding that lies.
     */
    static Arbitrary<Case> headers() {
        var value = Arbitraries.oneOf(
                Arbitraries.strings().withCharRange('\u0000', '\u00ff').ofMaxLength(60),
                Arbitraries.of("", "application/json", "application/json; charset=utf-16", "application/json;;",
                        "application/*", "*/*", "text/plain", "application/problem+json", "multipart/form-data",
                        "application/x-www-form-urlencoded", "application/json; charset=\"", "a/b/c", ";;;q=abc/",
                        "text/html;q=0", "application/json\r\nX-Injected: 1", "x\rX-Injected: 1", "x\nX-Injected: 1",
                        "x\r\n\r\nGET /v1/queues HTTP/1.1\r\nHost: localhost", "a\u0000b", "\u007f", "\u00ff\u00fe"),
                Arbitraries.integers().between(8_000, 100_000).map("a"::repeat));
        var oneHeader = Combinators.combine(Arbitraries.of("Content-Type", "Accept", "Idempotency-Key",
                "Content-Encoding", "Expect", "X-Anything", "Bad Name", "X(", "\u00e9", ""), value, refusedRequests())
                .as((name, v, request) -> {
                    var lines = new ArrayList<String>();
                    if (!name.equals("Content-Type")) {
                        lines.add("Content-Type: application/json");
                    }
                    lines.add(name + ": " + v);
                    return Case.request(request.method(), request.target(), lines,
                            request.body() == null ? null : SubmitCases.utf8(request.body()), Case.refused(null));
                });
        var manyHeaders = Arbitraries.integers().between(100, 2000).map(count -> {
            var lines = new ArrayList<String>(List.of("Content-Type: application/json"));
            for (var i = 0; i < count; i++) {
                lines.add("X-Header-" + i + ": " + "v".repeat(40));
            }
            return Case.request("POST", "/v1/jobs", lines, SubmitCases.utf8(BAD_SUBMIT), Case.refused(null));
        });
        var lyingLength = Arbitraries.of("0", "1", "5", "13", "15", "100", "-1", "-13", "+14", " 14", "14 14", "0x0e",
                "14, 15", "abc", "99999999999999999999", "9223372036854775807", "4294967310", "")
                .map(length -> new Case("POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
                        + "\r\nContent-Length: " + length + "\r\n", SubmitCases.utf8(BAD_SUBMIT), Case.refused(null)));
        var twoLengths = Arbitraries.of("14", "15", "13").map(second -> new Case("POST /v1/jobs HTTP/1.1\r\nHost: localhost"
                + "\r\nContent-Type: application/json\r\nContent-Length: 14\r\nContent-Length: " + second + "\r\n",
                SubmitCases.utf8(BAD_SUBMIT), Case.refused(null)));
        var chunks = Arbitraries.of("zz\r\n" + BAD_SUBMIT, "e\r\n" + BAD_SUBMIT + "\r\n", "e\r\n" + BAD_SUBMIT
                + "\r\n0\r\n\r\n", "-1\r\nx\r\n0\r\n\r\n", "ffffffffffffffffff\r\nx", "e;x=\"\r\n" + BAD_SUBMIT
                + "\r\n0\r\n\r\n", "0\r\n\r\n")
                .flatMap(body -> Arbitraries.of("chunked", "gzip, chunked", "chunked, gzip", "identity", "chunked\r\n"
                        + "Content-Length: 14", "x").map(coding -> new Case("POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\n"
                        + "Content-Type: application/json\r\nTransfer-Encoding: " + coding + "\r\n",
                        SubmitCases.utf8(body), UNKNOWN_CODING_OR_BAD_CHUNKS)));
        return Arbitraries.oneOf(oneHeader, manyHeaders, lyingLength, twoLengths, chunks);
    }

    /** A request refused whatever its headers say: a 400 or a 404. {@code body} null: none. */
    private record Refusable(String method, String target, String body) {
    }

    private static Arbitrary<Refusable> refusedRequests() {
        var unknown = UUID.randomUUID();
        return Arbitraries.of(
                new Refusable("POST", "/v1/jobs", BAD_SUBMIT),
                new Refusable("POST", "/v1/jobs/batch", "{\"jobs\":[]}"),
                new Refusable("GET", "/v1/jobs/" + unknown + "?wait=1", null),
                new Refusable("GET", "/v1/jobs?limit=0", null),
                new Refusable("POST", "/v1/jobs/" + unknown + "/cancel", ""),
                new Refusable("POST", "/v1/jobs/" + unknown + "/retry", ""));
    }

    /** Bytes that look like a cursor and are not one the api gave out. */
    private static Arbitrary<String> forgedCursors() {
        var encoder = Base64.getUrlEncoder().withoutPadding();
        return Arbitraries.oneOf(
                Arbitraries.bytes().array(byte[].class).ofMaxSize(60).map(encoder::encodeToString),
                Hostile.anyText().map(t -> encoder.encodeToString(t.getBytes(StandardCharsets.UTF_8))),
                Arbitraries.create(UUID::randomUUID).map(id -> Base64.getEncoder().encodeToString(
                        (id + "x").getBytes(StandardCharsets.UTF_8))));
    }

    private record Param(String name, String value, boolean valid) {
    }

    private static Arbitrary<Optional<Param>> param(String name, Arbitrary<String> valid, Arbitrary<String> invalid) {
        return Arbitraries.oneOf(valid.map(v -> new Param(name, v, true)), invalid.map(v -> new Param(name, v, false)))
                .filter(p -> fitsInARequestLine(p.value())).optional(0.6);
    }

    /**
     * Short enough, percent-encoded, that five of them stay under Tomcat's 8 KiB for the request line and headers
     * (a longer line is refused by Tomcat with a 400 that cannot name the parameter).
     */
    private static boolean fitsInARequestLine(String value) {
        return encode(value).length() <= 1_000;
    }

    private static Arbitrary<String> ids() {
        return Arbitraries.oneOf(
                Hostile.anyText().map(RequestCases::encode),
                Arbitraries.create(UUID::randomUUID).map(UUID::toString),
                Arbitraries.create(UUID::randomUUID).map(id -> id.toString().toUpperCase()),
                Arbitraries.create(UUID::randomUUID).map(id -> "{" + id + "}"),
                Arbitraries.create(UUID::randomUUID).map(id -> id.toString().replace('-', 'g')),
                Arbitraries.of("%00", "a%00b", "..", "%2e%2e", "%2e%2e%2f%2e%2e%2fetc", "..%2f..%2f", "%2F", "%5C",
                        "%zz", "%", "%u0000", "a;b=c", ";", "%ED%A0%80", "%FF", "%C0%AE%C0%AE"),
                Arbitraries.integers().between(37, 60_000).map("f"::repeat));
    }

    private static Arbitrary<String> waits() {
        return Arbitraries.oneOf(
                Arbitraries.of("-1", "1e30", "NaN", "Infinity", "-Infinity", "abc", "61", "60.0001", "0x10", "1,5",
                        "%00", "\u0000", "-0", "0", "60", "1e-400", " 5", "5d", "0x1p3", "", "1_0", "٣"),
                Hostile.extremeNumbers(), Hostile.anyText());
    }

    /** Not a route, and not a path that normalizes to one (only dots). */
    private static boolean isUnknownSegment(String segment) {
        return !segment.isEmpty() && !segment.chars().allMatch(c -> c == '.')
                && !Set.of("jobs", "queues", "workers", "stats").contains(segment);
    }

    static boolean isValidWait(String wait) {
        if (wait.isEmpty()) {
            return true;
        }
        // decimal digits, with a fraction or not; no exponent, sign, space, suffix or hexadecimal
        return wait.matches("[0-9]{1,9}(\\.[0-9]{1,9})?") && Double.parseDouble(wait) <= 60;
    }

    private static boolean isLimit(String limit) {
        if (!limit.matches("[0-9]+")) {
            return false;
        }
        try {
            var value = Integer.parseInt(limit);
            return value >= 1 && value <= 500;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static boolean isCursor(String after) {
        try {
            UUID.fromString(new String(Base64.getUrlDecoder().decode(after), StandardCharsets.UTF_8));
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static String cursor(UUID id) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(id.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Percent-encoded as UTF-8 (a lone surrogate becomes {@code ?}, as Java encodes it). */
    static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
