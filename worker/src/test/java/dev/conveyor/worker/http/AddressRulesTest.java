package dev.conveyor.worker.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every refused range, refused by default and allowed once its range is in {@code allowed-addresses}. */
class AddressRulesTest {

    private static final AddressRules DEFAULTS = new AddressRules(List.of());

    private static AddressRules allowing(String... ranges) {
        return new AddressRules(List.of(ranges).stream().map(AddressRange::parse).toList());
    }

    @Nested
    class EachRange {

        @ParameterizedTest(name = "{0} is refused as {2}, allowed with {1}")
        @CsvSource({
                "0.0.0.0, 0.0.0.0/8, unspecified",
                "0.1.2.3, 0.0.0.0/8, unspecified",
                "10.1.2.3, 10.0.0.0/8, private",
                "100.64.0.1, 100.64.0.0/10, private",
                "127.0.0.1, 127.0.0.0/8, loopback",
                "127.255.0.9, 127.0.0.0/8, loopback",
                "169.254.169.254, 169.254.169.254/32, link-local",
                "172.16.5.4, 172.16.0.0/12, private",
                "192.168.0.10, 192.168.0.0/16, private",
                "198.18.0.1, 198.18.0.0/15, benchmarking",
                "198.19.255.254, 198.18.0.0/15, benchmarking",
                "224.0.0.1, 224.0.0.0/4, multicast",
                "255.255.255.255, 255.255.255.255/32, broadcast",
                "240.0.0.1, 240.0.0.0/4, reserved",
                "254.1.2.3, 240.0.0.0/4, reserved",
                "::, ::/128, unspecified",
                "::1, ::1/128, loopback",
                "::8.8.8.8, ::/96, deprecated IPv4-compatible",
                "64:ff9b::808:808, 64:ff9b::/96, NAT64",
                "64:ff9b:1::808:808, 64:ff9b:1::/48, NAT64",
                "2001:0:4136:e378:8000:63bf:3fff:fdd2, 2001::/32, Teredo",
                "2002:808:808::1, 2002::/16, 6to4",
                "fd00::1, fc00::/7, unique-local",
                "fe80::1, fe80::/10, link-local",
                "fec0::1, fec0::/10, private",
                "ff02::1, ff00::/8, multicast"})
        void isRefusedByDefaultAndAllowedByItsRange(String address, String range, String kind) {
            var ip = InetAddress.ofLiteral(address);
            assertThat(DEFAULTS.refusal(ip)).isEqualTo("a " + kind + " address");
            assertThat(allowing(range).refusal(ip)).isNull();
        }

        @ParameterizedTest
        @CsvSource({"8.8.8.8", "1.1.1.1", "198.20.0.1", "100.128.0.1", "223.255.255.254", "2606:4700::1111",
                "2001:4860:4860::8888"})
        void publicAddressesPass(String address) {
            assertThat(DEFAULTS.refusal(InetAddress.ofLiteral(address))).isNull();
        }
    }

    @Nested
    class EmbeddedIpv4 {

        @Test
        void judgesAnIpv4MappedAddressByItsIpv4Address() throws Exception {
            // Java turns ::ffff:a.b.c.d into an IPv4 address when it parses one; an Inet6Address can still hold it.
            var mapped = Inet6Address.getByAddress(null, new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 127, 0, 0, 1},
                    -1);
            assertThat(DEFAULTS.refusal(mapped)).isEqualTo("a loopback address");
            assertThat(allowing("127.0.0.0/8").refusal(mapped)).isNull();
            var publicMapped = Inet6Address.getByAddress(null,
                    new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 8, 8, 8, 8}, -1);
            assertThat(DEFAULTS.refusal(publicMapped)).isNull();
            assertThat(DEFAULTS.refusal(InetAddress.ofLiteral("::ffff:169.254.169.254"))).isEqualTo("a link-local address");
        }

        @ParameterizedTest
        @CsvSource({
                "64:ff9b::7f00:1, 64:ff9b::/96, loopback",
                "64:ff9b::a9fe:a9fe, 64:ff9b::/96, link-local",
                "::10.0.0.1, ::/96, private",
                "2002:7f00:1::1, 2002::/16, loopback",
                "2002:c0a8:1::1, 2002::/16, private"})
        void stillRefusesANonPublicIpv4AddressInsideAnAllowedRange(String address, String range, String kind) {
            assertThat(allowing(range).refusal(InetAddress.ofLiteral(address))).isEqualTo("a " + kind + " address");
            assertThat(allowing(range, "0.0.0.0/0").refusal(InetAddress.ofLiteral(address))).isNull();
        }
    }

    @Test
    void namesTheFirstRefusedAddressOfAnAnswer() {
        var answer = new InetAddress[] {InetAddress.ofLiteral("8.8.8.8"), InetAddress.ofLiteral("127.0.0.1")};
        assertThat(DEFAULTS.refusal(answer)).isEqualTo("127.0.0.1, a loopback address");
        assertThat(DEFAULTS.refusal(new InetAddress[] {InetAddress.ofLiteral("8.8.8.8")})).isNull();
    }
}
