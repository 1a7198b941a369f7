package dev.conveyor.api.web;

import java.util.UUID;

/** Job ids as they appear in paths: a UUID, or a 400 naming {@code id}. */
public final class PathIds {

    private PathIds() {
    }

    public static UUID jobId(String id) {
        try {
            if (id.length() == 36) {
                return UUID.fromString(id);
            }
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw ApiException.invalid("id", "must be a UUID");
    }
}
