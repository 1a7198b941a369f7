package dev.conveyor.worker.http;

import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.worker.HttpSettings;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses requests that could reach the worker's own network (server-side request forgery): hosts outside the
 * allow-list, and hosts that resolve to an address the {@link AddressRules} refuse (loopback, link-local such as cloud
 * metadata at 169.254.169.254, private, NAT64, 6to4 and more) unless its range is allowed. It checks the addresses the
 * JVM gives for the name, exactly as the HTTP client will look it up, and pins them in the {@link GuardedResolver} for
 * the length of the request, so that the client connects to those addresses and no rebinding DNS answer can slip in
 * between the check and the connection.
 */
final class AddressGuard {

    private static final Logger log = LoggerFactory.getLogger(AddressGuard.class);
    private static final String NOT_INSTALLED = "the worker's name resolver (" + GuardedResolverProvider.class.getName()
            + ") is not the JVM's, so the address a request connects to could differ from the one checked; another "
            + "java.net.spi.InetAddressResolverProvider came first, or jdk.net.hosts.file is set";

    private final List<String> allowedHosts;
    private final AddressRules rules;
    private final GuardedResolver resolver;

    AddressGuard(HttpSettings settings) {
        this(settings, GuardedResolver.installed());
    }

    AddressGuard(HttpSettings settings, GuardedResolver resolver) {
        allowedHosts = settings.allowedHosts().stream().map(host -> host.strip().toLowerCase(Locale.ROOT)).toList();
        rules = new AddressRules(settings.allowedAddresses().stream().map(range -> {
            try {
                return AddressRange.parse(range);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("conveyor.worker.http.allowed-addresses: " + e.getMessage());
            }
        }).toList());
        this.resolver = resolver;
        if (resolver == null) {
            log.error("The http handler refuses every request: " + NOT_INSTALLED);
        }
    }

    AddressRules rules() {
        return rules;
    }

    /**
     * Checks that {@code uri} may be called and pins its host's checked addresses until the returned lease is closed,
     * which must be when the request has ended. Throws a not-retryable failure naming the rule when it may not be
     * called; an unknown host is a retryable failure (DNS may answer later).
     */
    GuardedResolver.Lease check(URI uri) {
        var host = uri.getHost();
        var lower = host.toLowerCase(Locale.ROOT);
        var bare = lower.startsWith("[") ? lower.substring(1, lower.length() - 1) : lower;
        if (!allowedHosts.isEmpty() && allowedHosts.stream().noneMatch(allowed -> matches(allowed, bare))) {
            throw refused("host '" + bare + "' is not in conveyor.worker.http.allowed-hosts");
        }
        if (resolver == null) {
            throw refused(NOT_INSTALLED);
        }
        var lease = resolver.pin(host, rules);
        try {
            InetAddress[] addresses;
            try {
                // The very lookup the client makes (new InetSocketAddress(host, port)): same cache, same resolver.
                addresses = InetAddress.getAllByName(host);
            } catch (UnknownHostException e) {
                throw new JobFailure("HANDLER_ERROR", "cannot resolve host '" + bare + "'", true, null, e);
            }
            var refusal = rules.refusal(addresses);
            if (refusal != null) {
                throw refused("host '" + bare + "' resolves to " + refusal
                        + "; allow its range in conveyor.worker.http.allowed-addresses");
            }
            lease.keep(addresses);
            return lease;
        } catch (RuntimeException e) {
            lease.close();
            throw e;
        }
    }

    private static boolean matches(String allowed, String host) {
        return allowed.startsWith("*.") ? host.endsWith(allowed.substring(1)) : allowed.equals(host);
    }

    private static JobFailure refused(String why) {
        return new JobFailure("HANDLER_ERROR", "refused: " + why, false, null, null);
    }
}
