package dev.conveyor.api.auth;

import java.util.EnumSet;
import java.util.Set;

/**
 * Who sent a request: the API key's id, its tenant and its scopes. Controllers take it as a parameter.
 *
 * @param keyId  the key's id (never the key), or {@code open} when the api runs without keys
 * @param tenant the tenant whose jobs the request submits and sees
 * @param scopes what the key may do
 */
public record Caller(String keyId, String tenant, Set<Scope> scopes) {

    /** The tenant of every job when the api runs without keys. */
    public static final String DEFAULT_TENANT = "default";

    /** Everyone, when no keys are configured: the default tenant with every scope. */
    public static final Caller OPEN = new Caller("open", DEFAULT_TENANT, EnumSet.allOf(Scope.class));

    public Caller {
        scopes = scopes.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(scopes));
    }

    /** Whether this is everyone of an api without keys ({@link #OPEN}), rather than the holder of a key. */
    public boolean open() {
        return this == OPEN;
    }

    public boolean has(Scope scope) {
        return scopes.contains(scope) || scopes.contains(Scope.ADMIN);
    }

    public boolean admin() {
        return scopes.contains(Scope.ADMIN);
    }

    /** The tenant whose jobs this caller may see, or null for all (an admin). */
    public String visibleTenant() {
        return admin() ? null : tenant;
    }
}
