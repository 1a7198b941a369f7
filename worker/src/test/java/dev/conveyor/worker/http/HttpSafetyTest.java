package dev.conveyor.worker.http;

import static dev.conveyor.worker.http.HttpHandlerTesting.LOOPBACK;
import static dev.conveyor.worker.http.HttpHandlerTesting.allowingLoopback;
import static dev.conveyor.worker.http.HttpHandlerTesting.failure;
import static dev.conveyor.worker.http.HttpHandlerTesting.get;
import static dev.conveyor.worker.http.HttpHandlerTesting.run;
import static dev.conveyor.worker.http.HttpHandlerTesting.settings;
import static dev.conveyor.worker.http.TestServer.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Server-side request forgery rules, redirects, and payloads that do not fit. */
class HttpSafetyTest {

    private final TestServer server = new TestServer();
    private final AtomicInteger hits = new AtomicInteger();

    @AfterEach
    void stop() {
        server.close();
    }

    private HttpJobHandler handler(List<String> hosts, List<String> addresses) {
        return new HttpJobHandler(settings(1_048_576, hosts, addresses), Clock.systemUTC());
    }

    @Nested
    class AddressRules {

        @ParameterizedTest
        @CsvSource({
                "http://127.0.0.1:1/, loopback",
                "http://[::1]:1/, loopback",
                "http://169.254.169.254/latest/meta-data/, link-local",
                "http://10.1.2.3/, private",
                "http://192.168.0.10/, private",
                "http://172.16.5.4/, private",
                "http://[fd00::1]/, unique-local",
                "http://0.0.0.0/, unspecified",
                "http://[::ffff:127.0.0.1]/, loopback",
                "http://2130706433:1/, loopback",
                "http://[::ffff:a9fe:a9fe]/, link-local",
                "http://198.18.0.1/, benchmarking",
                "http://240.0.0.1/, reserved",
                "http://255.255.255.255/, broadcast",
                "http://[64:ff9b::7f00:1]/, NAT64",
                "http://[2002:7f00:1::1]/, 6to4",
                "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/, Teredo",
                "http://[::7f00:1]/, deprecated IPv4-compatible"})
        void refusesNonPublicAddressesByDefaultNamingTheRule(String url, String rule) {
            var failure = failure(handler(List.of(), List.of()), get(url));
            assertThat(failure.retryable()).isFalse();
            assertThat(failure.code()).isEqualTo("HANDLER_ERROR");
            assertThat(failure.getMessage()).startsWith("refused:").contains("a " + rule + " address",
                    "conveyor.worker.http.allowed-addresses");
        }

        @Test
        void refusesANameThatResolvesToLoopbackByDefault() {
            server.route("/", exchange -> {
                hits.incrementAndGet();
                send(exchange, 200, "should not be reached");
            });
            var failure = failure(handler(List.of(), List.of()), get("http://localhost:" + server.port() + "/"));
            assertThat(failure.retryable()).isFalse();
            assertThat(failure.getMessage()).contains("host 'localhost' resolves to", "loopback");
            assertThat(hits).hasValue(0);
        }

        @Test
        void allowsANameThatResolvesToLoopbackWhenItsRangeIsAllowed() throws Exception {
            server.route("/", exchange -> send(exchange, 200, "hi"));
            var result = run(handler(List.of(), LOOPBACK), get("http://localhost:" + server.port() + "/"));
            assertThat(result.get("body").asString()).isEqualTo("hi");
        }

        @Test
        void refusesHostsOutsideTheAllowList() {
            var failure = failure(handler(List.of("api.example.org", "*.example.net"), LOOPBACK),
                    get(server.url("/")));
            assertThat(failure.retryable()).isFalse();
            assertThat(failure.getMessage()).contains("host '127.0.0.1' is not in conveyor.worker.http.allowed-hosts");
        }

        @Test
        void refusesAnAllowedRangeThatIsNotAnAddressAtStartUp() {
            assertThatThrownBy(() -> handler(List.of(), List.of("localhost/8")))
                    .hasMessageContaining("conveyor.worker.http.allowed-addresses");
        }
    }

    @Nested
    class Redirects {

        private final HttpJobHandler handler = allowingLoopback();

        @AfterEach
        void close() {
            handler.close();
        }

        @Test
        void followsRedirectsAndAnswersTheLastResponse() throws Exception {
            server.route("/old", exchange -> send(exchange, 301, "", "Location", "/new"));
            server.route("/new", exchange -> send(exchange, 200, "moved here"));
            assertThat(run(handler, get(server.url("/old"))).get("body").asString()).isEqualTo("moved here");
        }

        @Test
        void continuesA303AsGetWithoutTheBody() throws Exception {
            server.route("/form", exchange -> send(exchange, 303, "", "Location", "/done"));
            server.route("/done", exchange -> send(exchange, 200, exchange.getRequestMethod()
                    + exchange.getRequestBody().readAllBytes().length));
            var result = run(handler, "{\"method\": \"POST\", \"url\": \"" + server.url("/form")
                    + "\", \"body\": \"a=1\"}");
            assertThat(result.get("body").asString()).isEqualTo("GET0");
        }

        @Test
        void refusesARedirectToARefusedAddress() {
            server.route("/sneaky", exchange -> send(exchange, 302, "",
                    "Location", "http://169.254.169.254/latest/meta-data/"));
            var failure = failure(handler, get(server.url("/sneaky")));
            assertThat(failure.retryable()).isFalse();
            assertThat(failure.getMessage()).contains("169.254.169.254", "link-local");
        }

        @Test
        void dropsCredentialsWhenARedirectLeavesTheOrigin() throws Exception {
            server.route("/away", exchange -> send(exchange, 307, "",
                    "Location", "http://localhost:" + server.port() + "/there"));
            server.route("/there", exchange -> send(exchange, 200,
                    String.valueOf(exchange.getRequestHeaders().getFirst("Authorization"))));
            var result = run(handler, "{\"url\": \"" + server.url("/away")
                    + "\", \"headers\": {\"Authorization\": \"Bearer secret\"}}");
            assertThat(result.get("body").asString()).isEqualTo("null");
        }

        @Test
        void failsFinallyAfterTooManyRedirects() {
            server.route("/loop", exchange -> send(exchange, 302, "", "Location", "/loop"));
            var failure = failure(handler, get(server.url("/loop")));
            assertThat(failure.retryable()).isFalse();
            assertThat(failure.getMessage()).contains("redirected more than 5 times");
        }
    }

    @Nested
    class PayloadsThatDoNotFit {

        private final HttpJobHandler handler = allowingLoopback();

        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {
                "{}| payload.url is required",
                "{\"url\": \"ftp://example.org/\"}| payload.url must start with http",
                "{\"url\": \"http://u:p@example.org/\"}| payload.url must not carry credentials",
                "{\"url\": \"http://example.org/\", \"timeoutMs\": 0}| payload.timeoutMs must be an integer",
                "{\"url\": \"http://example.org/\", \"timeoutMs\": 3600001}| payload.timeoutMs must be an integer from 1 to 3600000",
                "{\"url\": \"http://example.org/\", \"timeoutMs\": 100000000000000000000}| payload.timeoutMs must be an integer from 1 to 3600000",
                "{\"url\": \"http://example.org/\", \"timeoutMs\": -100000000000000000000}| payload.timeoutMs must be an integer from 1 to 3600000",
                "{\"url\": \"http://example.org/\", \"timeoutMs\": 100.5}| payload.timeoutMs must be an integer from 1 to 3600000",
                "{\"url\": \"http://example.org/\", \"headers\": {\"Host\": \"x\"}}| payload.headers.Host cannot be set",
                "{\"url\": \"http://example.org/\", \"headers\": {\"X-N\": 1}}| payload.headers.X-N must be text",
                "{\"url\": \"http://example.org/\", \"headers\": {\"Transfer-Encoding\": \"chunked\"}}| payload.headers.Transfer-Encoding cannot be set",
                "{\"url\": \"http://example.org/\", \"headers\": {\"X A\": \"1\"}}| payload.headers.X A is not a valid header",
                "{\"url\": \"http://example.org/\", \"headers\": {\"X-A\": \"1\\r\\nX-B: 2\"}}| payload.headers.X-A is not a valid header",
                "{\"url\": \"http://example.org/\", \"verb\": \"GET\"}| payload.verb is not a field",
                "{\"url\": \"http://example.org/\", \"method\": \"G T\"}| payload.method 'G T' is not an HTTP method"})
        void failsFinallyNamingTheField(String payload, String message) {
            var failure = failure(handler, payload);
            assertThat(failure.code()).isEqualTo("HANDLER_ERROR");
            assertThat(failure.retryable()).isFalse();
            assertThat(failure.getMessage()).contains(message.strip());
        }
    }
}
