package dev.conveyor.worker.http;

import static dev.conveyor.worker.http.HttpHandlerTesting.allowingLoopback;
import static dev.conveyor.worker.http.HttpHandlerTesting.failure;
import static dev.conveyor.worker.http.HttpHandlerTesting.run;
import static dev.conveyor.worker.http.TestServer.send;
import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.Json;
import java.time.Duration;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Credentials in an {@code http} job's headers or query never show in its toString or its failure message. */
class HttpSecretsTest {

    private static final String TOKEN = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0";
    private static final String COOKIE = "sess-7f3a9c2e";
    private static final String API_KEY = "key-0b1c2d3e4f";
    private static final String QUERY_TOKEN = "qt-5e6f7a8b9c";
    private static final String SIGNATURE = "c2lnbmF0dXJl%2Bpart";

    private final TestServer server = new TestServer();
    private final HttpJobHandler handler = allowingLoopback();

    @AfterEach
    void stop() {
        handler.close();
        server.close();
    }

    private String payload(String url) {
        return "{\"url\": \"" + url + "\", \"body\": \"password=hunter22\", \"headers\": {\"Authorization\": \"Bearer "
                + TOKEN + "\", \"Cookie\": \"theme=dark; session=" + COOKIE + "\", \"X-Api-Key\": \"" + API_KEY
                + "\", \"Accept\": \"application/json\"}}";
    }

    @Test
    void toStringMasksCredentialHeadersAndLeavesTheBodyOut() {
        var call = HttpCall.from(Json.tree(payload("http://example.org/")), Duration.ofSeconds(5));
        assertThat(call.toString()).doesNotContain(TOKEN, COOKIE, API_KEY, "hunter22")
                .contains("Authorization=****", "Cookie=****", "X-Api-Key=****", "Accept=application/json",
                        "body=17 chars");
        assertThat(call.headers()).containsEntry("Authorization", "Bearer " + TOKEN);
    }

    @Test
    void aFailingServerThatEchoesTheRequestDoesNotPutTheCredentialsInTheMessage() {
        server.route("/echo", exchange -> send(exchange, 500, Stream.of("Authorization", "Cookie", "X-Api-Key")
                .map(name -> name + ": " + exchange.getRequestHeaders().getFirst(name))
                .collect(Collectors.joining("\n"))));
        var failure = failure(handler, payload(server.url("/echo")));
        assertThat(failure.code()).isEqualTo("HTTP_STATUS");
        assertThat(failure.getMessage()).contains("answered 500", "Authorization: ****", "Cookie: ****")
                .doesNotContain(TOKEN, COOKIE, API_KEY);
    }

    private static String withQueryCredentials(String url) {
        return url + "?page=2&access_token=" + QUERY_TOKEN + "&X-Amz-Signature=" + SIGNATURE + "&sig=abcdef#top";
    }

    @Test
    void toStringMasksCredentialQueryParameters() {
        var call = HttpCall.from(Json.tree("{\"url\": \"" + withQueryCredentials("http://example.org/x") + "\"}"),
                Duration.ofSeconds(5));
        assertThat(call.toString()).contains(
                "uri=http://example.org/x?page=2&access_token=****&X-Amz-Signature=****&sig=****#top")
                .doesNotContain(QUERY_TOKEN, "c2lnbmF0dXJl", "abcdef");
    }

    @Test
    void aFailingServerThatEchoesTheQueryDoesNotPutItsCredentialsInTheMessage() {
        server.route("/echo", exchange -> send(exchange, 500, "you asked for " + exchange.getRequestURI()
                + " (decoded: " + exchange.getRequestURI().getQuery() + ")"));
        var failure = failure(handler, "{\"url\": \"" + withQueryCredentials(server.url("/echo")) + "\"}");
        assertThat(failure.getMessage()).contains("answered 500", "access_token=****", "page=2")
                .doesNotContain(QUERY_TOKEN, "c2lnbmF0dXJl", "abcdef");
    }

    @Test
    void aRedirectThatCannotBeFollowedIsNamedWithItsCredentialsMasked() {
        server.route("/away", exchange -> send(exchange, 302, "", "Location", "ftp://elsewhere/?api_key="
                + QUERY_TOKEN));
        var failure = failure(handler, "{\"url\": \"" + withQueryCredentials(server.url("/away")) + "\"}");
        assertThat(failure.getMessage()).contains("redirected to 'ftp://elsewhere/?api_key=****'")
                .doesNotContain(QUERY_TOKEN, "c2lnbmF0dXJl", "abcdef");
    }

    @Test
    void anInvalidHeaderValueIsNamedWithoutQuotingIt() {
        var failure = failure(handler, "{\"url\": \"" + server.url("/") + "\", \"headers\": {\"Authorization\": "
                + "\"Bearer " + TOKEN + "\\r\\nX-Evil: 1\"}}");
        assertThat(failure.retryable()).isFalse();
        assertThat(failure.getMessage()).startsWith("payload.headers.Authorization is not a valid header")
                .doesNotContain(TOKEN);
    }

    @Test
    void credentialHeadersDoNotFollowARedirectToAnotherOrigin() throws Exception {
        server.route("/away", exchange -> send(exchange, 307, "",
                "Location", "http://localhost:" + server.port() + "/there"));
        server.route("/there", exchange -> send(exchange, 200, exchange.getRequestHeaders().keySet().stream()
                .map(String::toLowerCase).sorted().collect(Collectors.joining(","))));
        var result = run(handler, payload(server.url("/away")));
        assertThat(result.get("body").asString()).contains("accept").doesNotContain("authorization", "cookie",
                "x-api-key");
    }
}
