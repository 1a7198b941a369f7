package dev.conveyor.worker.http;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.common.handler.JobHandler;
import dev.conveyor.worker.HttpSettings;
import dev.conveyor.worker.Secrets;
import java.net.URI;
import java.time.Clock;
import java.util.Base64;
import java.util.HashMap;
import java.util.Set;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SystemDefaultDnsResolver;
import tools.jackson.databind.JsonNode;

/**
 * {@code http}: one request per attempt, redirects followed here (so that each hop passes the {@link AddressGuard}),
 * the body read up to {@code max-response-bytes}. 5xx and 429 are retryable {@code HTTP_STATUS} failures that pass
 * the server's {@code Retry-After} on as the least backoff; other 4xx are final; network errors are retryable. A body
 * that is not text is answered base64-encoded, with {@code "bodyEncoding": "base64"}.
 */
final class HttpJobHandler implements JobHandler, AutoCloseable {

    private static final Set<Integer> REDIRECTS = Set.of(301, 302, 303, 307, 308);
    private static final int SNIPPET = 200;
    // How much of a failing body is searched for the call's secrets: the snippet, and room for a long token across
    // its end.
    private static final int SCANNED = SNIPPET + 8_192;

    private final HttpSettings settings;
    private final AddressGuard guard;
    private final Clock clock;
    private final HttpExchange exchange;

    HttpJobHandler(HttpSettings settings, Clock clock) {
        this(settings, clock, SystemDefaultDnsResolver.INSTANCE);
    }

    /** With the names of hosts looked up in {@code dns} (tests script its answers). */
    HttpJobHandler(HttpSettings settings, Clock clock, DnsResolver dns) {
        this.settings = settings;
        this.guard = new AddressGuard(settings, dns);
        this.clock = clock;
        this.exchange = new HttpExchange(settings, guard);
    }

    /** The per-host limits, for tests. */
    HostLimits hostLimits() {
        return exchange.hostLimits();
    }

    /** Connections open now, in use or idle, for tests. */
    int openConnections() {
        return exchange.openConnections();
    }

    @Override
    public String type() {
        return "http";
    }

    @Override
    public JsonNode handle(JobContext context) throws InterruptedException {
        var call = HttpCall.from(context.payload(), settings.defaultTimeout());
        var deadline = System.nanoTime() + call.timeout().toNanos();
        for (var redirects = 0; ; redirects++) {
            guard.checkHost(call.uri());
            var response = exchange.send(call, deadline);
            var location = response.header("location");
            if (!REDIRECTS.contains(response.status()) || location.isEmpty()) {
                return outcome(call, response);
            }
            if (redirects == settings.maxRedirects()) {
                throw JobFailure.notRetryable(call.method() + " " + call.shownUri() + " redirected more than "
                        + settings.maxRedirects() + " times (conveyor.worker.http.max-redirects)");
            }
            call = redirected(call, response.status(), location.get());
        }
    }

    private static HttpCall redirected(HttpCall call, int status, String location) {
        URI next;
        try {
            next = HttpCall.uri(call.uri().resolve(location.strip()).toString());
        } catch (IllegalArgumentException | JobFailure e) {
            throw JobFailure.notRetryable(call.shownUri() + " redirected to '" + SensitiveQuery.shown(location)
                    + "', which cannot be followed: " + e.getMessage());
        }
        // As browsers do: 303, and 301/302 after a POST, continue as GET without the body.
        var toGet = (status == 303 && !call.method().equals("HEAD"))
                || ((status == 301 || status == 302) && call.method().equals("POST"));
        var headers = call.headers();
        if (!sameOrigin(call.uri(), next)) {
            headers = new HashMap<>(headers);
            // Credentials meant for one origin must not follow a redirect to another.
            headers.keySet().removeIf(SensitiveHeaders::sensitive);
        }
        return new HttpCall(toGet ? "GET" : call.method(), next, headers, toGet ? null : call.body(), call.timeout());
    }

    private static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI uri) {
        return uri.getPort() != -1 ? uri.getPort() : uri.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }

    private JsonNode outcome(HttpCall call, HttpExchange.Response response) {
        var status = response.status();
        if (response.tooLarge()) {
            throw new JobFailure("RESULT_TOO_LARGE", "the response body of " + call.method() + " " + call.shownUri()
                    + " (status " + status + ") is larger than " + settings.maxResponseBytes()
                    + " bytes (conveyor.worker.http.max-response-bytes)", false, null, null);
        }
        var bytes = response.body();
        var text = HttpExchange.text(bytes, HttpExchange.charset(response.header("content-type")));
        if (status == 429 || status >= 500) {
            throw new JobFailure("HTTP_STATUS", describe(call, status, text, bytes.length), true,
                    RetryAfter.parse(response.header("retry-after"), clock).orElse(null), null);
        }
        if (status >= 400) {
            throw new JobFailure("HTTP_STATUS", describe(call, status, text, bytes.length), false, null, null);
        }
        var result = Json.object();
        result.put("status", status);
        var headers = result.putObject("headers");
        response.headers().forEach((name, values) -> headers.put(name, String.join(", ", values)));
        if (text != null) {
            result.put("body", text);
        } else {
            // Not text, or text with NUL characters, which no JSON store keeps: the bytes, base64-encoded.
            result.put("body", Base64.getEncoder().encodeToString(bytes));
            result.put("bodyEncoding", "base64");
        }
        return result;
    }

    private static String describe(HttpCall call, int status, String body, int bytes) {
        if (body == null) {
            return call.method() + " " + call.shownUri() + " answered " + status + " with a body of " + bytes
                    + " bytes that is not text";
        }
        // A server may echo the request (its Authorization header too): hide the call's secrets before cutting.
        var text = Secrets.hide(body.substring(0, Math.min(body.length(), SCANNED)), call.secrets());
        var snippet = text.length() > SNIPPET ? text.substring(0, SNIPPET) + "..." : text;
        return call.method() + " " + call.shownUri() + " answered " + status
                + (snippet.isBlank() ? "" : ": " + snippet.strip());
    }

    @Override
    public void close() {
        exchange.close();
    }
}
