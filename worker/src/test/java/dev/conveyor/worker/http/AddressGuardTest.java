package dev.conveyor.worker.http;

import static dev.conveyor.worker.http.HttpHandlerTesting.settings;
import static dev.conveyor.worker.http.StubDns.addresses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.conveyor.common.handler.JobFailure;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The guard's check and its pins, through the JVM's resolver (the test's {@link StubDns}). */
class AddressGuardTest {

    private final GuardedResolver resolver = GuardedResolver.installed();

    private AddressGuard guard(String... allowed) {
        return new AddressGuard(settings(1024, List.of(), List.of(allowed)), resolver);
    }

    @Test
    void refusesEveryRequestWhenTheJvmDoesNotRunItsResolver() {
        var guard = new AddressGuard(settings(1024, List.of(), List.of()), null);
        var failure = catchThrowableOfType(JobFailure.class, () -> guard.check(URI.create("http://203.0.113.7/")));
        assertThat(failure.retryable()).isFalse();
        assertThat(failure.getMessage()).startsWith("refused: the worker's name resolver")
                .contains("is not the JVM's");
    }

    @Test
    void pinsACheckedHostUntilTheLeaseIsClosed() {
        StubDns.answer("pinned.test", addresses("203.0.113.7"), addresses("127.0.0.1"));
        var before = resolver.pinned();
        try (var lease = guard().check(URI.create("https://Pinned.test:8443/x"))) {
            assertThat(resolver.pinned()).isEqualTo(before + 1);
        }
        assertThat(resolver.pinned()).isEqualTo(before);
    }

    @Test
    void letsThePinGoWhenItRefuses() {
        StubDns.answer("refused.test", addresses("10.0.0.8"));
        var before = resolver.pinned();
        var failure = catchThrowableOfType(JobFailure.class,
                () -> guard().check(URI.create("http://refused.test/")));
        assertThat(failure.getMessage()).contains("resolves to 10.0.0.8, a private address");
        assertThat(resolver.pinned()).isEqualTo(before);
    }

    @Test
    void failsAnUnknownHostRetryably() {
        var failure = catchThrowableOfType(JobFailure.class,
                () -> guard().check(URI.create("http://nobody-answers.test/")));
        assertThat(failure.retryable()).isTrue();
        assertThat(failure.getMessage()).isEqualTo("cannot resolve host 'nobody-answers.test'");
    }

    @Test
    void checksIpv6LiteralsAsTheyAre() {
        try (var lease = guard("fd00::/8").check(URI.create("http://[fd00::1]:8080/"))) {
            assertThat(lease).isNotNull();
        }
        var failure = catchThrowableOfType(JobFailure.class, () -> guard().check(URI.create("http://[fd00::1]/")));
        assertThat(failure.getMessage()).contains("host 'fd00::1' resolves to fd00:0:0:0:0:0:0:1, a unique-local");
    }
}
