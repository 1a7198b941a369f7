package dev.conveyor.api.auth;

import dev.conveyor.common.JobLimits;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * API keys, under {@code conveyor.api.auth}. With no key configured the api runs open: every request acts as an
 * admin of the {@code default} tenant, the api listens on the loopback interface only (unless
 * {@code server.address} says otherwise), and answers only requests addressed to it by a loopback name or one of
 * {@code open-hosts}.
 *
 * @param keys            keys given in configuration, by hash; at least one admin key to make more through
 *                        {@code POST /v1/keys}
 * @param refreshInterval how often each api instance reads the keys made and revoked through the api
 * @param openHosts       without keys: the host names (as in {@code Host}, without the port) the api answers to
 *                        besides loopback ones ({@code localhost}, {@code 127.x.x.x}, {@code [::1]}); {@code *} for
 *                        any. When empty: loopback names only while the api keeps to the loopback interface
 *                        ({@code server.address} not set), so that a web page of another site whose name was
 *                        pointed at this machine (DNS rebinding) cannot use an api that trusts whoever reaches it;
 *                        any name once {@code server.address} is set
 */
@ConfigurationProperties("conveyor.api.auth")
public record AuthProperties(List<ConfiguredKey> keys, @DefaultValue("1s") Duration refreshInterval,
        List<String> openHosts) {

    static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    /** A tenant's name: as a queue's ({@link JobLimits#QUEUE}). */
    static final Pattern TENANT = JobLimits.QUEUE;
    private static final Pattern HOST = Pattern.compile("[a-z0-9._-]{1,253}|\\[[0-9a-f:.]{2,45}]");

    public AuthProperties {
        keys = keys == null ? List.of() : List.copyOf(keys);
        openHosts = openHosts == null ? List.of()
                : openHosts.stream().map(String::strip).filter(host -> !host.isEmpty())
                        .map(host -> host.toLowerCase(Locale.ROOT)).toList();
        for (var host : openHosts) {
            require(host.equals("*") || HOST.matcher(host).matches(), "conveyor.api.auth.open-hosts: '" + host
                    + "' is not a host name or address (as in Host, without the port), nor *");
        }
        require(refreshInterval.compareTo(Duration.ofMillis(100)) >= 0,
                "conveyor.api.auth.refresh-interval must be at least 100ms");
        var ids = new HashSet<String>();
        var hashes = new HashSet<String>();
        for (var i = 0; i < keys.size(); i++) {
            var key = keys.get(i);
            var name = "conveyor.api.auth.keys[" + i + "]";
            require(key.id() != null && ID.matcher(key.id()).matches(),
                    name + ".id must match " + ID.pattern());
            require(key.tenant() != null && TENANT.matcher(key.tenant()).matches(),
                    name + ".tenant must match " + TENANT.pattern());
            require(key.hash() != null && KeyHash.FORMAT.matcher(key.hash()).matches(),
                    name + ".hash must be sha256: and 64 lower-case hex digits (the SHA-256 of the key, never the key)");
            require(key.scopes() != null && !key.scopes().isEmpty(), name + ".scopes must name at least one of "
                    + "jobs:write, jobs:read, admin");
            for (var scope : key.scopes()) {
                require(Scope.of(scope).isPresent(), name + ".scopes: '" + scope
                        + "' is not one of jobs:write, jobs:read, admin");
            }
            require(ids.add(key.id()), name + ".id '" + key.id() + "' is used twice");
            require(hashes.add(key.hash()), name + ".hash is used twice");
        }
    }

    /** Whether requests need a key. */
    public boolean enabled() {
        return !keys.isEmpty();
    }

    /** Without keys: whether a request addressed to {@code host} is answered (loopback names always are). */
    boolean openTo(String host) {
        return openHosts.contains("*") || openHosts.contains(host.toLowerCase(Locale.ROOT));
    }

    /**
     * One key of the configuration.
     *
     * @param id     a name for the key that is not secret (logs, {@code GET /v1/keys}, revocation)
     * @param tenant the tenant its jobs belong to
     * @param scopes {@code jobs:write}, {@code jobs:read}, {@code admin}
     * @param hash   {@code sha256:} and the hex SHA-256 of the key
     */
    public record ConfiguredKey(String id, String tenant, List<String> scopes, String hash) {

        @Override
        public String toString() {
            return "ConfiguredKey[id=" + id + ", tenant=" + tenant + ", scopes=" + scopes + "]";
        }
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
