package dev.conveyor.worker.http;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/** A CIDR range of IPv4 or IPv6 addresses, such as {@code 10.0.0.0/8} or {@code ::1/128}. */
record AddressRange(byte[] network, int prefixBits) {

    // Only literals: a host name here would be resolved once at start-up and trusted forever after.
    private static final Pattern LITERAL = Pattern.compile("[0-9A-Fa-f:.]+");

    /** Parses {@code address/bits}, or a lone address (all its bits). */
    static AddressRange parse(String text) {
        var slash = text.indexOf('/');
        var address = slash < 0 ? text.strip() : text.substring(0, slash).strip();
        if (!LITERAL.matcher(address).matches()) {
            throw new IllegalArgumentException("'" + text + "' is not an IP address range like 10.0.0.0/8");
        }
        byte[] bytes;
        try {
            bytes = InetAddress.getByName(address).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + text + "' is not an IP address range like 10.0.0.0/8");
        }
        var bits = bytes.length * 8;
        if (slash >= 0) {
            try {
                bits = Integer.parseInt(text.substring(slash + 1).strip());
            } catch (NumberFormatException e) {
                bits = -1;
            }
        }
        if (bits < 0 || bits > bytes.length * 8) {
            throw new IllegalArgumentException("'" + text + "': the prefix must be 0 to " + bytes.length * 8);
        }
        return new AddressRange(bytes, bits);
    }

    boolean contains(InetAddress address) {
        var bytes = address.getAddress();
        if (bytes.length != network.length) {
            return false;
        }
        for (var bit = 0; bit < prefixBits; bit++) {
            var mask = 0x80 >>> (bit % 8);
            if ((bytes[bit / 8] & mask) != (network[bit / 8] & mask)) {
                return false;
            }
        }
        return true;
    }
}
