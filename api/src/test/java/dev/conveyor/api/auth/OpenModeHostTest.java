package dev.conveyor.api.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.mock.env.MockEnvironment;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Without keys the api listens on the loopback interface, and answers only requests that name it so: a page of
 * another site whose name was pointed at 127.0.0.1 (DNS rebinding) reaches the port, but its requests carry its own
 * name.
 */
@ApiTest
class OpenModeHostTest {

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
    }

    @LocalServerPort
    int port;

    /** The status line and body of a GET with this Host header, sent as bytes (HTTP clients will not send any Host). */
    private String get(String path, String host) throws IOException {
        return get(port, path, host, "");
    }

    /** As {@link #get(String, String)}, to the api on {@code port}, with more header lines. */
    private static String get(int port, String path, String host, String headers) throws IOException {
        try (var socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + headers
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /**
     * Where forwarded headers are honoured (set, or by default on a cloud platform), the server's name is the one
     * {@code X-Forwarded-Host} gives, when the request comes from a proxy's address, as 127.0.0.1 is; a page served
     * to a browser on this machine under a rebound name may set that header on its own requests, and was answered.
     */
    @Test
    void aForwardedHostDoesNotStandInForTheNameTheRequestWasSentTo() throws Exception {
        try (var api = ApiTests.start("--server.forward-headers-strategy=native")) {
            var port = ((WebServerApplicationContext) api).getWebServer().getPort();

            var answer = get(port, "/v1/queues", "attacker.example:" + port, "X-Forwarded-Host: localhost\r\n");

            assertThat(answer).startsWith("HTTP/1.1 403").doesNotContain("\"queues\"");
            assertThat(get(port, "/v1/queues", "localhost:" + port, "")).startsWith("HTTP/1.1 200");
        }
        var request = new MockHttpServletRequest("GET", "/v1/queues");
        request.setServerName("localhost");
        request.addHeader("Host", "attacker.example:8080");
        var response = new MockHttpServletResponse();
        filterWith(null, null).doFilter(request, response, (req, res) -> res.getWriter().write("passed"));
        assertThat(response.getStatus()).isEqualTo(403);
        assertThat(AuthFilter.hostName(request)).isEqualTo("attacker.example");
    }

    @ParameterizedTest
    @ValueSource(strings = {"attacker.example", "attacker.example:" + 0, "127.0.0.1.attacker.example", "localhost.evil",
            "192.168.1.10", "[fe80::1]", "0.0.0.0"})
    void aRequestUnderAnotherNameIsRefusedWithAProblem(String host) throws IOException {
        var answer = get("/v1/queues", host.replace(":0", ":" + port));

        assertThat(answer).startsWith("HTTP/1.1 403");
        assertThat(answer).contains("application/problem+json", "loopback name", "configure keys");
        assertThat(answer).doesNotContain("\"queues\"");
        assertThat(get("/", host)).as("the dashboard too").startsWith("HTTP/1.1 403");
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost", "LOCALHOST", "localhost.", "app.localhost", "127.0.0.1", "127.1.2.3", "[::1]"})
    void aRequestToALoopbackNameIsAnswered(String host) throws IOException {
        assertThat(get("/v1/queues", host + ":" + port)).startsWith("HTTP/1.1 200").contains("\"queues\"");
    }

    /**
     * A page of another site cannot read this api's answers, but its browser sends the page's "simple" requests here
     * (a form's POST, with the right Host): a cancel or retry of a job whose id the page learned was carried out.
     * The browser names the page's site in {@code Origin}.
     */
    @Test
    void aPostFromAPageOfAnotherSiteIsRefusedAndChangesNothing() throws Exception {
        var jobId = ApiTests.client(port).post("/v1/jobs", "{\"type\": \"echo\", \"runAt\": \"2099-01-01T00:00:00Z\"}")
                .json().get("id").asString();

        for (var origin : List.of("http://attacker.example", "https://localhost.attacker.example", "null", "%%%")) {
            var answer = post("/v1/jobs/" + jobId + "/cancel", origin);
            assertThat(answer).as(origin).startsWith("HTTP/1.1 403").contains("application/problem+json");
            assertThat(post("/v1/jobs/" + jobId + "/retry", origin)).as(origin).startsWith("HTTP/1.1 403");
        }
        assertThat(ApiTests.client(port).get("/v1/jobs/" + jobId).json().get("status").asString())
                .isEqualTo("SCHEDULED");

        // the api's own pages (the dashboard's Cancel) and other loopback ones are answered
        assertThat(post("/v1/jobs/" + jobId + "/cancel", "http://localhost:" + port)).startsWith("HTTP/1.1 202");
        assertThat(post("/v1/jobs/" + jobId + "/retry", "http://[::1]:3000")).startsWith("HTTP/1.1 202");
        assertThat(filter(filterWith(List.of("conveyor.internal"), null), "localhost", "http://conveyor.internal"))
                .isEqualTo(200);
        assertThat(filter(filterWith(List.of("*"), null), "localhost", "http://anything.example")).isEqualTo(200);
        assertThat(filter(filterWith(null, "0.0.0.0"), "api", "http://anything.example")).as("exposed on purpose")
                .isEqualTo(200);
    }

    /** A form's POST with this Origin header, as a browser sends it for a page of that origin. */
    private String post(String path, String origin) throws IOException {
        try (var socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nHost: localhost:" + port + "\r\nOrigin: "
                    + origin + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void namesListedInOpenHostsAreAnsweredToo() throws Exception {
        var listed = filterWith(List.of("Conveyor.Internal"), null);
        var any = filterWith(List.of("*"), null);
        var none = filterWith(null, null);

        assertThat(filter(listed, "conveyor.internal")).isEqualTo(200);
        assertThat(filter(listed, "CONVEYOR.INTERNAL")).isEqualTo(200);
        assertThat(filter(listed, "other.internal")).isEqualTo(403);
        assertThat(filter(any, "anything.example")).isEqualTo(200);
        assertThat(filter(none, "conveyor.internal")).isEqualTo(403);
        assertThat(filter(none, "localhost")).isEqualTo(200);
        assertThatThrownBy(() -> open(List.of("conveyor.internal:8080")))
                .hasMessageContaining("conveyor.api.auth.open-hosts: 'conveyor.internal:8080' is not a host name");
    }

    /** An api set up to serve other hosts ({@code server.address}) answers any name, unless open-hosts lists some. */
    @Test
    void anApiGivenAnAddressAnswersAnyNameUnlessOpenHostsListsThem() throws Exception {
        assertThat(filter(filterWith(null, "0.0.0.0"), "api")).isEqualTo(200);
        assertThat(filter(filterWith(List.of("localhost"), "0.0.0.0"), "api")).isEqualTo(403);
        assertThat(filter(filterWith(List.of("localhost"), "0.0.0.0"), "localhost")).isEqualTo(200);
        assertThat(filter(filterWith(List.of("api"), "0.0.0.0"), "api")).isEqualTo(200);
    }

    private static AuthFilter filterWith(List<String> openHosts, String serverAddress) {
        var environment = new MockEnvironment();
        if (serverAddress != null) {
            environment.setProperty("server.address", serverAddress);
        }
        return new AuthFilter(new ApiKeys(null, open(openHosts)), open(openHosts), environment);
    }

    private static AuthProperties open(List<String> hosts) {
        return new AuthProperties(List.of(), Duration.ofSeconds(1), hosts);
    }

    /** The status a request addressed to {@code host} gets from {@code filter}: 200 when it is let through. */
    private static int filter(AuthFilter filter, String host) throws Exception {
        return filter(filter, host, null);
    }

    /** As {@link #filter(AuthFilter, String)}, for a POST sent by a browser for a page of {@code origin}. */
    private static int filter(AuthFilter filter, String host, String origin) throws Exception {
        var request = new MockHttpServletRequest(origin == null ? "GET" : "POST", "/v1/queues");
        request.setServerName(host);
        if (origin != null) {
            request.addHeader("Origin", origin);
        }
        var response = new MockHttpServletResponse();
        var passed = new AtomicBoolean();
        filter.doFilter(request, response, (req, res) -> passed.set(true));
        return passed.get() ? 200 : response.getStatus();
    }

    @Test
    void theNamesAreReadAsAddressesOnlyWhenTheyAreOne() {
        assertThat(AuthFilter.isLoopbackName("127.0.0.1")).isTrue();
        assertThat(AuthFilter.isLoopbackName("127.0.0.01")).isTrue();
        assertThat(AuthFilter.isLoopbackName("0x7f.0.0.1")).isFalse();
        assertThat(AuthFilter.isLoopbackName("2130706433")).isFalse();
        assertThat(AuthFilter.isLoopbackName("[::ffff:127.0.0.1]")).isTrue();
        assertThat(AuthFilter.isLoopbackName("[::1")).isFalse();
        assertThat(AuthFilter.isLoopbackName("999.0.0.1")).isFalse();
    }
}
