package dev.conveyor.worker.http;

import dev.conveyor.worker.Secrets;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Query parameters that carry credentials ({@code access_token=}, {@code api_key=}, {@code sig=},
 * {@code X-Amz-Signature=} and the like): their values never appear in a failure message, a log line or a
 * {@code toString} of the call, and are hidden wherever a server might echo them. A parameter is sensitive when a
 * header of its name would be ({@link SensitiveHeaders}), or by one of the short names services use in URLs.
 */
final class SensitiveQuery {

    private static final Set<String> NAMES = Set.of("key", "sig", "code", "auth", "pass", "pwd", "passwd");
    // as header names would have them with a hyphen ("api-key"), which query strings spell with an underscore
    private static final List<String> PARTS = List.of("api_key", "access_key", "private_key", "secret_key");

    private SensitiveQuery() {
    }

    static boolean sensitive(String name) {
        var lower = name.toLowerCase(Locale.ROOT);
        return NAMES.contains(lower) || PARTS.stream().anyMatch(lower::contains) || SensitiveHeaders.sensitive(name);
    }

    /** {@code url} (a URL or what a server gave as one) with the values of sensitive query parameters masked. */
    static String shown(String url) {
        var query = query(url);
        if (query == null) {
            return url;
        }
        var parameters = url.substring(query[0], query[1]).split("&", -1);
        for (var i = 0; i < parameters.length; i++) {
            var equals = parameters[i].indexOf('=');
            if (equals > 0 && sensitive(decoded(parameters[i].substring(0, equals)))) {
                parameters[i] = parameters[i].substring(0, equals + 1) + Secrets.MASK;
            }
        }
        return url.substring(0, query[0]) + String.join("&", parameters) + url.substring(query[1]);
    }

    static String shown(URI uri) {
        return shown(uri.toString());
    }

    /** The values of the sensitive query parameters of {@code uri}, as sent and decoded. */
    static List<String> secrets(URI uri) {
        var secrets = new ArrayList<String>();
        var raw = uri.getRawQuery();
        if (raw == null) {
            return secrets;
        }
        for (var parameter : raw.split("&")) {
            var equals = parameter.indexOf('=');
            if (equals > 0 && sensitive(decoded(parameter.substring(0, equals)))) {
                var value = parameter.substring(equals + 1);
                secrets.add(value);
                secrets.add(decoded(value));
            }
        }
        return secrets;
    }

    /** Where the query of {@code url} starts and ends (before a fragment), or null when it has none. */
    private static int[] query(String url) {
        var mark = url.indexOf('?');
        if (mark < 0) {
            return null;
        }
        var fragment = url.indexOf('#', mark);
        return new int[] {mark + 1, fragment < 0 ? url.length() : fragment};
    }

    private static String decoded(String text) {
        try {
            return URLDecoder.decode(text, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return text; // a malformed escape: judged as written
        }
    }
}
