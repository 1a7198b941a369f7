package dev.conveyor.worker.http;

import dev.conveyor.worker.Secrets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Headers that carry credentials ({@code Authorization}, {@code Cookie}, {@code X-Api-Key} and the like): their values
 * never appear in a {@code toString}, a log line or a failure message, and they do not follow a redirect to another
 * origin.
 */
final class SensitiveHeaders {

    private static final Set<String> NAMES = Set.of("authorization", "proxy-authorization", "cookie", "set-cookie",
            "x-api-key", "api-key", "apikey", "x-auth-token", "x-csrf-token", "x-xsrf-token", "x-amz-security-token");
    private static final List<String> PARTS = List.of("token", "secret", "password", "api-key", "apikey", "session",
            "credential", "signature");

    private SensitiveHeaders() {
    }

    static boolean sensitive(String name) {
        var lower = name.toLowerCase(Locale.ROOT);
        return NAMES.contains(lower) || PARTS.stream().anyMatch(lower::contains);
    }

    /** {@code headers} with the values of sensitive ones masked, in their order. */
    static Map<String, String> masked(Map<String, String> headers) {
        var masked = new LinkedHashMap<String, String>();
        headers.forEach((name, value) -> masked.put(name, sensitive(name) ? Secrets.MASK : value));
        return masked;
    }

    /**
     * The secrets inside {@code headers}, to hide wherever a server might echo them: each sensitive value whole, the
     * credentials after a scheme ({@code Bearer abc} also as {@code abc}) and each cookie's value.
     */
    static List<String> secrets(Map<String, String> headers) {
        var secrets = new ArrayList<String>();
        headers.forEach((name, value) -> {
            if (sensitive(name)) {
                secrets.add(value.strip());
                var space = value.strip().indexOf(' ');
                if (space > 0) {
                    secrets.add(value.strip().substring(space + 1).strip());
                }
                for (var cookie : value.split(";")) {
                    var equals = cookie.indexOf('=');
                    if (equals > 0) {
                        secrets.add(cookie.substring(equals + 1).strip());
                    }
                }
            }
        });
        // Longest first, so that a whole value is masked before a part of it could split it.
        secrets.sort((a, b) -> Integer.compare(b.length(), a.length()));
        return secrets;
    }
}
