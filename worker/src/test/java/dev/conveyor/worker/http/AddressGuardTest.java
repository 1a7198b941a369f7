package dev.conveyor.worker.http;

import static dev.conveyor.worker.http.HttpHandlerTesting.settings;
import static dev.conveyor.worker.http.StubDns.addresses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.conveyor.common.handler.JobFailure;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The guard as the HTTP client's resolver (over the test's {@link StubDns}), and its host allow-list. */
class AddressGuardTest {

    private final StubDns dns = new StubDns();

    private AddressGuard guard(String... allowed) {
        return new AddressGuard(settings(1024, List.of(), List.of(allowed)), dns);
    }

    @Test
    void answersTheAddressesItChecked() throws Exception {
        dns.answer("public.test", addresses("203.0.113.7", "2001:db8::7"));
        assertThat(guard().resolve("Public.test")).containsExactly(addresses("203.0.113.7", "2001:db8::7"));
        assertThat(dns.lookups("public.test")).isEqualTo(1);
    }

    @Test
    void refusesAnAnswerWithAnyRefusedAddress() {
        dns.answer("mixed.test", addresses("203.0.113.7", "10.0.0.8"));
        var refused = catchThrowableOfType(AddressGuard.Refused.class, () -> guard().resolve("mixed.test"));
        assertThat(refused.getMessage()).isEqualTo("host 'mixed.test' resolves to 10.0.0.8, a private address; "
                + "allow its range in conveyor.worker.http.allowed-addresses");
    }

    @Test
    void letsAnAllowedRangeThrough() throws Exception {
        dns.answer("inside.test", addresses("10.0.0.8"));
        assertThat(guard("10.0.0.0/8").resolve("inside.test")).containsExactly(addresses("10.0.0.8"));
    }

    @Test
    void aNameThatDoesNotResolveIsUnknownNotRefused() {
        var unknown = catchThrowableOfType(UnknownHostException.class, () -> guard().resolve("nobody-answers.test"));
        assertThat(unknown).isNotInstanceOf(AddressGuard.Refused.class);
    }

    @Test
    void checksIpLiteralsAsTheyAre() throws Exception {
        assertThat(guard("fd00::/8").resolve("[fd00::1]")).containsExactly(addresses("fd00::1"));
        var refused = catchThrowableOfType(AddressGuard.Refused.class, () -> guard().resolve("fd00::1"));
        assertThat(refused.getMessage()).contains("host 'fd00::1' resolves to fd00:0:0:0:0:0:0:1, a unique-local");
        assertThat(catchThrowableOfType(AddressGuard.Refused.class, () -> guard().resolve("169.254.169.254")))
                .hasMessageContaining("a link-local address");
    }

    @Test
    void refusesHostsOutsideTheAllowList() {
        var guard = new AddressGuard(settings(1024, List.of("api.example.org", "*.hooks.example.org"), List.of()), dns);
        guard.checkHost(URI.create("https://API.example.org/x"));
        guard.checkHost(URI.create("https://a.hooks.example.org/x"));
        var failure = catchThrowableOfType(JobFailure.class,
                () -> guard.checkHost(URI.create("https://example.org.evil.test/")));
        assertThat(failure.retryable()).isFalse();
        assertThat(failure.getMessage()).isEqualTo(
                "refused: host 'example.org.evil.test' is not in conveyor.worker.http.allowed-hosts");
    }
}
