package dev.conveyor.api.auth;

import java.util.Arrays;
import java.util.Optional;

/** What an API key may do. {@link #ADMIN} includes the others, for every tenant. */
public enum Scope {
    /** Submit, cancel and retry the tenant's jobs. */
    JOBS_WRITE("jobs:write"),
    /** Read, list and long-poll the tenant's jobs. */
    JOBS_READ("jobs:read"),
    /** Queues, workers, statistics, keys, metrics, and every tenant's jobs. */
    ADMIN("admin");

    private final String value;

    Scope(String value) {
        this.value = value;
    }

    /** The name used in configuration and in the API ({@code jobs:write}). */
    public String value() {
        return value;
    }

    public static Optional<Scope> of(String value) {
        return Arrays.stream(values()).filter(scope -> scope.value.equals(value)).findFirst();
    }

    @Override
    public String toString() {
        return value;
    }
}
