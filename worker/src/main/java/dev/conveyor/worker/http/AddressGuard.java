package dev.conveyor.worker.http;

import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.worker.HttpSettings;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import org.apache.hc.client5.http.DnsResolver;

/**
 * Refuses requests that could reach the worker's own network (server-side request forgery): hosts outside the
 * allow-list ({@link #checkHost}), and hosts that resolve to an address the {@link AddressRules} refuse (loopback,
 * link-local such as cloud metadata at 169.254.169.254, private, NAT64, 6to4 and more) unless its range is allowed.
 *
 * <p>The address check is the HTTP client's name resolver: the client asks it, and only it, for the addresses of a
 * host each time it opens a connection, and connects to the very addresses it answered, so the addresses checked are
 * the addresses connected to, with no second lookup in between that a rebinding DNS could answer with 127.0.0.1. An
 * answer with any refused address among its addresses is refused whole. IP literals come here too and are checked as
 * they are. A pooled keep-alive connection was opened to checked addresses, so reusing it needs no new check.
 */
final class AddressGuard implements DnsResolver {

    /** A lookup whose answer the rules refuse; the message says which address and which setting allows it. */
    static final class Refused extends UnknownHostException {
        Refused(String message) {
            super(message);
        }
    }

    private final List<String> allowedHosts;
    private final AddressRules rules;
    private final DnsResolver upstream;

    /** Checks the answers of {@code upstream} (the JVM's resolver, {@code SystemDefaultDnsResolver}, in the worker). */
    AddressGuard(HttpSettings settings, DnsResolver upstream) {
        allowedHosts = settings.allowedHosts().stream().map(host -> host.strip().toLowerCase(Locale.ROOT)).toList();
        rules = new AddressRules(settings.allowedAddresses().stream().map(range -> {
            try {
                return AddressRange.parse(range);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("conveyor.worker.http.allowed-addresses: " + e.getMessage());
            }
        }).toList());
        this.upstream = upstream;
    }

    /** Throws a not-retryable failure when {@code uri}'s host is not in {@code allowed-hosts} (if that is set). */
    void checkHost(URI uri) {
        var host = bare(uri.getHost());
        if (!allowedHosts.isEmpty() && allowedHosts.stream().noneMatch(allowed -> matches(allowed, host))) {
            throw new JobFailure("HANDLER_ERROR", "refused: host '" + host + "' is not in conveyor.worker.http.allowed-hosts",
                    false, null, null);
        }
    }

    /**
     * The addresses to connect to for {@code host}, every one of them passing the rules.
     *
     * @throws Refused when any address in the answer is refused
     * @throws UnknownHostException when the name does not resolve
     */
    @Override
    public InetAddress[] resolve(String host) throws UnknownHostException {
        var name = bare(host);
        var addresses = upstream.resolve(name);
        if (addresses == null || addresses.length == 0) {
            throw new UnknownHostException(name);
        }
        var refusal = rules.refusal(addresses);
        if (refusal != null) {
            throw new Refused("host '" + name + "' resolves to " + refusal
                    + "; allow its range in conveyor.worker.http.allowed-addresses");
        }
        return addresses;
    }

    /** The name as given: no reverse lookups (the client asks only for Kerberos, which it does not use here). */
    @Override
    public String resolveCanonicalHostname(String host) {
        return host;
    }

    private static String bare(String host) {
        var lower = host.toLowerCase(Locale.ROOT);
        return lower.startsWith("[") && lower.endsWith("]") ? lower.substring(1, lower.length() - 1) : lower;
    }

    private static boolean matches(String allowed, String host) {
        return allowed.startsWith("*.") ? host.endsWith(allowed.substring(1)) : allowed.equals(host);
    }
}
