package dev.conveyor.worker.http;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;

/**
 * Which addresses {@code http} jobs may reach: any public address, and the non-public ranges the operator lists in
 * {@code conveyor.worker.http.allowed-addresses}. Addresses that embed an IPv4 address (IPv4-mapped, and once their
 * range is allowed NAT64, 6to4 and IPv4-compatible) are judged by that IPv4 address too, so that
 * {@code ::ffff:127.0.0.1} or {@code 64:ff9b::7f00:1} cannot pass for something else.
 */
final class AddressRules {

    private record Refused(AddressRange range, String kind) {
    }

    // First match wins: the narrow ranges come before the wide ones that hold them.
    private static final List<Refused> REFUSED = List.of(
            refused("0.0.0.0/8", "unspecified"),
            refused("10.0.0.0/8", "private"),
            refused("100.64.0.0/10", "private"), // shared address space (carrier-grade NAT), used inside some clouds
            refused("127.0.0.0/8", "loopback"),
            refused("169.254.0.0/16", "link-local"), // cloud metadata at 169.254.169.254
            refused("172.16.0.0/12", "private"),
            refused("192.168.0.0/16", "private"),
            refused("198.18.0.0/15", "benchmarking"),
            refused("224.0.0.0/4", "multicast"),
            refused("255.255.255.255/32", "broadcast"),
            refused("240.0.0.0/4", "reserved"),
            refused("::/128", "unspecified"),
            refused("::1/128", "loopback"),
            refused("::/96", "deprecated IPv4-compatible"),
            refused("64:ff9b::/96", "NAT64"),
            refused("64:ff9b:1::/48", "NAT64"),
            refused("2001::/32", "Teredo"),
            refused("2002::/16", "6to4"),
            refused("fc00::/7", "unique-local"),
            refused("fe80::/10", "link-local"),
            refused("fec0::/10", "private"), // the deprecated site-local range
            refused("ff00::/8", "multicast"));

    private final List<AddressRange> allowed;

    AddressRules(List<AddressRange> allowed) {
        this.allowed = List.copyOf(allowed);
    }

    /** The reason {@code address} may not be reached (such as {@code "a loopback address"}), or null if it may. */
    String refusal(InetAddress address) {
        // Java turns most IPv4-mapped addresses into IPv4 ones itself, but an Inet6Address can still hold one.
        if (address instanceof Inet6Address && isMapped(address.getAddress())) {
            return refusal(embeddedIpv4(address, 12));
        }
        var kind = kind(address);
        if (kind == null) {
            return null;
        }
        if (allowed.stream().noneMatch(range -> range.contains(address))) {
            return "a " + kind + " address";
        }
        var embedded = switch (kind) {
            case "NAT64", "deprecated IPv4-compatible" -> embeddedIpv4(address, 12);
            case "6to4" -> embeddedIpv4(address, 2);
            default -> null;
        };
        return embedded == null ? null : refusal(embedded);
    }

    /** The first refusal among {@code addresses}, naming the address, or null if all may be reached. */
    String refusal(InetAddress[] addresses) {
        for (var address : addresses) {
            var why = refusal(address);
            if (why != null) {
                return address.getHostAddress() + ", " + why;
            }
        }
        return null;
    }

    /** The kind of range that {@code address} is refused as by default, or null for a public address. */
    static String kind(InetAddress address) {
        for (var range : REFUSED) {
            if (range.range().contains(address)) {
                return range.kind();
            }
        }
        return null;
    }

    private static boolean isMapped(byte[] bytes) {
        for (var i = 0; i < 10; i++) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return bytes[10] == (byte) 0xff && bytes[11] == (byte) 0xff;
    }

    private static InetAddress embeddedIpv4(InetAddress address, int offset) {
        if (!(address instanceof Inet6Address)) {
            return null;
        }
        try {
            return Inet4Address.getByAddress(Arrays.copyOfRange(address.getAddress(), offset, offset + 4));
        } catch (UnknownHostException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    private static Refused refused(String range, String kind) {
        return new Refused(AddressRange.parse(range), kind);
    }
}
