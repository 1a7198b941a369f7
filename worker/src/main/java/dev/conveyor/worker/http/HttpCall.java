package dev.conveyor.worker.http;

import dev.conveyor.common.JsonNumbers;
import dev.conveyor.common.handler.JobFailure;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/** An {@code http} job's payload, checked: each problem is a not-retryable failure naming the field. */
record HttpCall(String method, URI uri, Map<String, String> headers, String body, Duration timeout) {

    static final long MAX_TIMEOUT_MS = 3_600_000;
    private static final Set<String> FIELDS = Set.of("method", "url", "headers", "body", "timeoutMs");
    private static final Pattern METHOD = Pattern.compile("[A-Z][A-Z-]{0,19}");
    // The client sets these itself: from a payload they could desynchronise the connection it shares with other jobs.
    private static final Set<String> RESTRICTED = Set.of("connection", "content-length", "expect", "host", "upgrade",
            "transfer-encoding");
    // RFC 9110's token: the characters a header name may have.
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+\\-.^_`|~0-9A-Za-z]+");

    static HttpCall from(JsonNode payload, Duration defaultTimeout) {
        if (payload == null || !payload.isObject()) {
            throw invalid("payload must be an object {\"method\", \"url\", \"headers\", \"body\", \"timeoutMs\"}");
        }
        for (var name : payload.propertyNames()) {
            if (!FIELDS.contains(name)) {
                throw invalid("payload." + name + " is not a field of an http job (it has " + FIELDS + ")");
            }
        }
        var method = optionalText(payload, "method", "GET").toUpperCase(Locale.ROOT);
        if (!METHOD.matcher(method).matches()) {
            throw invalid("payload.method '" + method + "' is not an HTTP method such as GET or POST");
        }
        var url = optionalText(payload, "url", null);
        if (url == null) {
            throw invalid("payload.url is required: the absolute http:// or https:// URL to call");
        }
        return new HttpCall(method, uri(url), headers(payload.get("headers")), optionalText(payload, "body", null),
                timeout(payload.get("timeoutMs"), defaultTimeout));
    }

    /** Checks a URL from a payload or a redirect: absolute, http or https, with a host and no credentials. */
    static URI uri(String text) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            // the reason and where, not the message, which quotes the whole URL
            throw invalid("payload.url is not a valid URL: " + e.getReason()
                    + (e.getIndex() >= 0 ? " at index " + e.getIndex() : ""));
        }
        var scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw invalid("payload.url must start with http:// or https://, not '" + SensitiveQuery.shown(text)
                    + "'");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw invalid("payload.url has no host: '" + SensitiveQuery.shown(text) + "'");
        }
        if (uri.getRawUserInfo() != null) {
            throw invalid("payload.url must not carry credentials; send an Authorization header instead");
        }
        return uri;
    }

    private static Map<String, String> headers(JsonNode headers) {
        var result = new LinkedHashMap<String, String>();
        if (headers == null || headers.isNull()) {
            return result;
        }
        if (!headers.isObject()) {
            throw invalid("payload.headers must be an object of header name to text value");
        }
        for (var entry : headers.properties()) {
            var name = entry.getKey();
            if (!entry.getValue().isString()) {
                throw invalid("payload.headers." + name + " must be text");
            }
            if (RESTRICTED.contains(name.toLowerCase(Locale.ROOT))) {
                throw invalid("payload.headers." + name + " cannot be set: the client sets it");
            }
            var value = entry.getValue().asString();
            if (!TOKEN.matcher(name).matches() || !fieldValue(value)) {
                // The value is not quoted: it may be a credential.
                throw invalid("payload.headers." + name + " is not a valid header: its name must be a token and its "
                        + "value must hold no line breaks or other control characters");
            }
            result.put(name, value);
        }
        return result;
    }

    /** Visible characters, spaces, tabs and bytes 0x80-0xFF (obsolete text), as RFC 9110 allows in a field value. */
    private static boolean fieldValue(String value) {
        for (var i = 0; i < value.length(); i++) {
            var c = value.charAt(i);
            if (c != '\t' && (c < 0x20 || c == 0x7F || c > 0xFF)) {
                return false;
            }
        }
        return true;
    }

    private static Duration timeout(JsonNode timeoutMs, Duration defaultTimeout) {
        if (timeoutMs == null || timeoutMs.isNull()) {
            return defaultTimeout;
        }
        var millis = JsonNumbers.wholeIn(timeoutMs, 1, MAX_TIMEOUT_MS);
        if (millis == null) {
            throw invalid("payload.timeoutMs must be an integer from 1 to " + MAX_TIMEOUT_MS);
        }
        return Duration.ofMillis(millis);
    }

    private static String optionalText(JsonNode payload, String field, String otherwise) {
        var value = payload.get(field);
        if (value == null || value.isNull()) {
            return otherwise;
        }
        if (!value.isString()) {
            throw invalid("payload." + field + " must be text");
        }
        return value.asString();
    }

    /** The secrets in this call's headers and query, to hide in any message that could echo them. */
    List<String> secrets() {
        var secrets = new ArrayList<>(SensitiveHeaders.secrets(headers));
        secrets.addAll(SensitiveQuery.secrets(uri));
        // Longest first, so that a whole value is masked before a part of it could split it.
        secrets.sort((a, b) -> Integer.compare(b.length(), a.length()));
        return secrets;
    }

    /** The URL as messages show it: the values of credential query parameters masked. */
    String shownUri() {
        return SensitiveQuery.shown(uri);
    }

    /** Shows the call with the values of credential headers and query parameters masked, the body by its length. */
    @Override
    public String toString() {
        return "HttpCall[method=" + method + ", uri=" + shownUri() + ", headers=" + SensitiveHeaders.masked(headers)
                + ", body=" + (body == null ? "none" : body.length() + " chars") + ", timeout=" + timeout + "]";
    }

    static JobFailure invalid(String message) {
        return JobFailure.notRetryable(message);
    }
}
