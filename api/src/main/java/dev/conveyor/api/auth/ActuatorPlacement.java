package dev.conveyor.api.auth;

import org.springframework.core.env.PropertyResolver;

/**
 * With API keys, the actuator's endpoints are guarded by {@link AuthFilter} where it looks for them: under
 * {@code /actuator}, on the api's own port. Moved elsewhere by Spring Boot's settings they would answer anyone (a
 * {@code management.server.port} is a server of its own, without the filter; another base path is not what the
 * filter guards), so such a start is refused, saying what to remove.
 */
final class ActuatorPlacement {

    private ActuatorPlacement() {
    }

    /** Throws when keys are configured and the actuator is not under {@code /actuator} on the api's port. */
    static void check(PropertyResolver environment, boolean keysConfigured) {
        if (!keysConfigured) {
            return;
        }
        var port = environment.getProperty("management.server.port");
        if (port != null && !port.isBlank() && !port.equals(environment.getProperty("server.port"))) {
            throw new IllegalStateException("conveyor.api.auth.keys are configured, but management.server.port="
                    + port + " serves the actuator on a server of its own, which the key check does not guard: "
                    + "remove it (the probes /actuator/health/liveness and /readiness stay open on the api's port)");
        }
        var basePath = environment.getProperty("management.endpoints.web.base-path");
        if (basePath != null && !basePath.equals("/actuator")) {
            throw new IllegalStateException("conveyor.api.auth.keys are configured, but "
                    + "management.endpoints.web.base-path=" + basePath + " moves the actuator from /actuator, "
                    + "where the key check guards it: remove it");
        }
    }
}
