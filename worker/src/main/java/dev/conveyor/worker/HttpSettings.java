package dev.conveyor.worker;

import static dev.conveyor.worker.WorkerProperties.require;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Settings of the built-in {@code http} handler, under {@code conveyor.worker.http}.
 *
 * @param maxResponseBytes largest response body the handler reads; beyond it the job fails with
 *                         {@code RESULT_TOO_LARGE}
 * @param allowedHosts     host names (exact, or {@code *.example.org} for its subdomains) that jobs may call;
 *                         empty means any host whose address is public
 * @param allowedAddresses address ranges (CIDR, like {@code 10.1.0.0/16} or {@code 127.0.0.1/32}) that jobs may
 *                         reach although they are not public (loopback, link-local, private, unique-local, NAT64,
 *                         6to4 and the other ranges refused otherwise against server-side request forgery)
 * @param defaultTimeout   how long a request may take when the payload names no {@code timeoutMs}
 * @param connectTimeout   how long connecting to a host may take
 * @param maxRedirects     most redirects followed per request (each one checked like the first request)
 * @param maxConnectionsPerHost most requests in flight at once to one host (scheme, host and port), and so most
 *                         connections open to it; jobs over the limit wait for a free connection within their timeout
 */
public record HttpSettings(
        @DefaultValue("1048576") int maxResponseBytes,
        List<String> allowedHosts,
        List<String> allowedAddresses,
        @DefaultValue("10s") Duration defaultTimeout,
        @DefaultValue("5s") Duration connectTimeout,
        @DefaultValue("5") int maxRedirects,
        @DefaultValue("" + DEFAULT_MAX_CONNECTIONS_PER_HOST) int maxConnectionsPerHost) {

    private static final Pattern ALLOWED_HOST = Pattern.compile("(\\*\\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?"
            + "(\\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\\.?|[0-9a-f.]*:[0-9a-f:.]*");

    /** Enough for a busy service; far fewer sockets than thousands of jobs in flight would otherwise open. */
    public static final int DEFAULT_MAX_CONNECTIONS_PER_HOST = 256;

    public HttpSettings {
        require(maxResponseBytes >= 0, "conveyor.worker.http.max-response-bytes must not be negative");
        allowedHosts = allowedHosts == null ? List.of() : List.copyOf(allowedHosts);
        // matched against a request's bare host name (AddressGuard): anything else never matches, and every job
        // would fail at run time (a blank one, dropped, would turn the allow-list into any public host)
        for (var host : allowedHosts) {
            require(host != null && ALLOWED_HOST.matcher(host.strip().toLowerCase(Locale.ROOT)).matches(),
                    "conveyor.worker.http.allowed-hosts: '" + host + "' is not a host name (api.example.org), "
                            + "*. and one (*.example.org), nor an address (10.0.0.1, ::1): no scheme, port, path, "
                            + "or brackets");
        }
        allowedAddresses = allowedAddresses == null ? List.of() : List.copyOf(allowedAddresses);
        require(defaultTimeout.isPositive(), "conveyor.worker.http.default-timeout must be positive");
        require(connectTimeout.isPositive(), "conveyor.worker.http.connect-timeout must be positive");
        require(maxRedirects >= 0, "conveyor.worker.http.max-redirects must not be negative");
        require(maxConnectionsPerHost >= 1, "conveyor.worker.http.max-connections-per-host must be at least 1");
    }

    /** The settings when none are given. */
    public static HttpSettings defaults() {
        return new HttpSettings(1_048_576, List.of(), List.of(), Duration.ofSeconds(10), Duration.ofSeconds(5), 5,
                DEFAULT_MAX_CONNECTIONS_PER_HOST);
    }
}
