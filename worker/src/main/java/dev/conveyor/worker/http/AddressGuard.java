package dev.conveyor.worker.http;

import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.worker.HttpSettings;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;

/**
 * Refuses requests that could reach the worker's own network (server-side request forgery): hosts outside the
 * allow-list, and hosts that resolve to loopback, link-local (cloud metadata at 169.254.169.254), private,
 * unique-local, unspecified or multicast addresses unless their range is allowed. It checks the addresses the
 * name resolves to, so a public name pointing at 127.0.0.1 is refused too. The HTTP client resolves the name again
 * when it connects; the JVM's address cache (30 s by default) answers that from the same lookup.
 */
final class AddressGuard {

    private final List<String> allowedHosts;
    private final List<AddressRange> allowedRanges;

    AddressGuard(HttpSettings settings) {
        allowedHosts = settings.allowedHosts().stream().map(host -> host.strip().toLowerCase(Locale.ROOT)).toList();
        allowedRanges = settings.allowedAddresses().stream().map(range -> {
            try {
                return AddressRange.parse(range);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("conveyor.worker.http.allowed-addresses: " + e.getMessage());
            }
        }).toList();
    }

    /**
     * Throws a not-retryable failure naming the rule when {@code uri} may not be called; an unknown host is a
     * retryable failure (DNS may answer later).
     */
    void check(URI uri) {
        var host = uri.getHost().toLowerCase(Locale.ROOT);
        var bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        if (!allowedHosts.isEmpty() && allowedHosts.stream().noneMatch(allowed -> matches(allowed, bare))) {
            throw refused("host '" + bare + "' is not in conveyor.worker.http.allowed-hosts");
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(bare);
        } catch (UnknownHostException e) {
            throw new JobFailure("HANDLER_ERROR", "cannot resolve host '" + bare + "'", true, null, e);
        }
        for (var address : addresses) {
            var rule = forbiddenKind(address);
            if (rule != null && allowedRanges.stream().noneMatch(range -> range.contains(address))) {
                throw refused("host '" + bare + "' resolves to " + address.getHostAddress() + ", a " + rule
                        + " address; allow its range in conveyor.worker.http.allowed-addresses");
            }
        }
    }

    private static boolean matches(String allowed, String host) {
        return allowed.startsWith("*.") ? host.endsWith(allowed.substring(1)) : allowed.equals(host);
    }

    /** The kind of address that is refused by default, or null for a public address. */
    static String forbiddenKind(InetAddress address) {
        if (address.isLoopbackAddress()) {
            return "loopback";
        }
        if (address.isLinkLocalAddress()) {
            return "link-local";
        }
        if (address.isSiteLocalAddress() || isCarrierGradeNat(address)) {
            return "private";
        }
        if (address instanceof Inet6Address && (address.getAddress()[0] & 0xfe) == 0xfc) {
            return "unique-local";
        }
        if (address.isAnyLocalAddress() || (address.getAddress().length == 4 && address.getAddress()[0] == 0)) {
            return "unspecified";
        }
        if (address.isMulticastAddress()) {
            return "multicast";
        }
        return null;
    }

    // 100.64.0.0/10 is shared address space: not public, and used inside some clouds.
    private static boolean isCarrierGradeNat(InetAddress address) {
        var bytes = address.getAddress();
        return bytes.length == 4 && (bytes[0] & 0xff) == 100 && (bytes[1] & 0xc0) == 64;
    }

    private static JobFailure refused(String why) {
        return new JobFailure("HANDLER_ERROR", "refused: " + why, false, null, null);
    }
}
