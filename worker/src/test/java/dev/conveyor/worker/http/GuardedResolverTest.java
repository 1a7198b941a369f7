package dev.conveyor.worker.http;

import static dev.conveyor.worker.http.StubDns.addresses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.spi.InetAddressResolver;
import java.net.spi.InetAddressResolver.LookupPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The resolver on its own, over a DNS that answers a public address first and 127.0.0.1 after. */
class GuardedResolverTest {

    private static final LookupPolicy ANY = LookupPolicy.of(LookupPolicy.IPV4 | LookupPolicy.IPV6);
    private static final AddressRules RULES = new AddressRules(List.of());

    private final List<String> asked = new ArrayList<>();
    private final AtomicLong now = new AtomicLong();
    private final InetAddressResolver rebinding = new InetAddressResolver() {
        @Override
        public Stream<InetAddress> lookupByName(String host, LookupPolicy policy) {
            asked.add(host);
            return Stream.of(addresses(asked.size() == 1 ? "203.0.113.7" : "127.0.0.1"));
        }

        @Override
        public String lookupByAddress(byte[] address) {
            return "stub";
        }
    };
    private final GuardedResolver resolver = new GuardedResolver(rebinding, now::get, 1_000);

    private static InetAddressResolver answering(String address) {
        return new InetAddressResolver() {
            @Override
            public Stream<InetAddress> lookupByName(String host, LookupPolicy policy) {
                return Stream.of(addresses(address));
            }

            @Override
            public String lookupByAddress(byte[] bytes) {
                return "stub";
            }
        };
    }

    private List<InetAddress> lookup(String host) throws UnknownHostException {
        return resolver.lookupByName(host, ANY).toList();
    }

    private List<InetAddress> lookupForTheClient(String host) throws Exception {
        return ScopedValue.where(GuardedResolver.CLIENT, RULES).call(() -> lookup(host));
    }

    @Nested
    class Pinned {

        @Test
        void answersAPinnedHostFromTheCheckedAddressesWithoutAskingDnsAgain() throws Exception {
            try (var lease = resolver.pin("Rebind.Example", RULES)) {
                var checked = lookup("rebind.example");
                assertThat(checked).containsExactly(InetAddress.ofLiteral("203.0.113.7"));
                lease.keep(checked.toArray(InetAddress[]::new));
                assertThat(lookup("rebind.example")).isEqualTo(checked);
                assertThat(lookupForTheClient("REBIND.example")).isEqualTo(checked);
            }
            assertThat(asked).hasSize(1);
            assertThat(resolver.pinned()).isZero();
        }

        @Test
        void sharesOnePinBetweenConcurrentRequestsAndDropsItAfterTheLast() throws Exception {
            var first = resolver.pin("shared.example", RULES);
            first.keep(lookup("shared.example").toArray(InetAddress[]::new));
            var second = resolver.pin("shared.example", RULES);
            second.keep(addresses("198.51.100.1"));
            first.close();
            first.close();
            assertThat(lookupForTheClient("shared.example")).containsExactly(InetAddress.ofLiteral("203.0.113.7"));
            second.close();
            assertThat(resolver.pinned()).isZero();
            assertThat(lookup("shared.example")).containsExactly(InetAddress.ofLiteral("127.0.0.1"));
        }

        @Test
        void neverGivesTheClientARefusedRawAnswer() throws Exception {
            lookup("other.example");
            try (var lease = resolver.pin("raw.example", RULES)) {
                assertThatThrownBy(() -> lookupForTheClient("raw.example"))
                        .isInstanceOf(UnknownHostException.class)
                        .hasMessageContaining("refused: host 'raw.example' resolves to 127.0.0.1, a loopback address");
                // The guard itself gets the same answer, to refuse it naming the address.
                assertThat(lookup("raw.example")).containsExactly(InetAddress.ofLiteral("127.0.0.1"));
            }
            assertThat(asked).hasSize(2);
        }

        @Test
        void refreshesALongHeldPinOnlyWithAnAnswerThatPasses() throws Exception {
            try (var lease = resolver.pin("held.example", RULES)) {
                lease.keep(lookup("held.example").toArray(InetAddress[]::new));
                now.addAndGet(2_000);
                assertThat(lookup("held.example")).containsExactly(InetAddress.ofLiteral("203.0.113.7"));
                assertThat(asked).hasSize(2);
            }
            var passing = new GuardedResolver(answering("198.51.100.9"), now::get, 1_000);
            try (var lease = passing.pin("moved.example", RULES)) {
                lease.keep(addresses("203.0.113.7"));
                now.addAndGet(2_000);
                assertThat(passing.lookupByName("moved.example", ANY).toList())
                        .containsExactly(InetAddress.ofLiteral("198.51.100.9"));
            }
        }

        @Test
        void answersOnlyTheFamilyAsked() throws Exception {
            try (var lease = resolver.pin("dual.example", RULES)) {
                lease.keep(addresses("203.0.113.7", "2001:db8::7"));
                assertThat(resolver.lookupByName("dual.example", LookupPolicy.of(LookupPolicy.IPV6)).toList())
                        .containsExactly(InetAddress.ofLiteral("2001:db8::7"));
            }
        }
    }

    @Nested
    class NotPinned {

        @Test
        void checksTheClientsLookups() throws Exception {
            assertThat(lookupForTheClient("late.example")).containsExactly(InetAddress.ofLiteral("203.0.113.7"));
            assertThatThrownBy(() -> lookupForTheClient("late.example"))
                    .isInstanceOf(UnknownHostException.class).hasMessageContaining("a loopback address");
        }

        @Test
        void leavesEveryOtherLookupAlone() throws Exception {
            lookup("kafka.example");
            assertThat(lookup("kafka.example")).containsExactly(InetAddress.ofLiteral("127.0.0.1"));
            assertThat(resolver.lookupByAddress(new byte[] {127, 0, 0, 1})).isEqualTo("stub");
        }
    }
}
