package dev.conveyor.api.web;

import java.util.HexFormat;
import java.util.UUID;

/** Job ids as they appear in paths: a UUID, or a 400 naming {@code id}. */
public final class PathIds {

    private static final int LENGTH = 36;

    private PathIds() {
    }

    public static UUID jobId(String id) {
        var uuid = uuid(id);
        if (uuid == null) {
            throw ApiException.invalid("id", "must be a UUID");
        }
        return uuid;
    }

    /**
     * The UUID written as 8-4-4-4-12 hex digits, or null for any other text. {@code UUID.fromString} alone takes
     * more: it reads each group with {@code Long.parseLong}, so {@code +1a24a8e-...} was the job {@code 01a24a8e-...}.
     */
    public static UUID uuid(String text) {
        if (text == null || text.length() != LENGTH) {
            return null;
        }
        for (var i = 0; i < LENGTH; i++) {
            var c = text.charAt(i);
            var dash = i == 8 || i == 13 || i == 18 || i == 23;
            if (dash ? c != '-' : !HexFormat.isHexDigit(c)) {
                return null;
            }
        }
        return UUID.fromString(text);
    }
}
