package dev.conveyor.api.submit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.web.FieldError;
import dev.conveyor.common.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** Jobs go only to the queues of {@code conveyor.api.queues}. */
class SubmitRequestsTest {

    private static ApiProperties properties(Map<String, String> settings) {
        return new Binder(new MapConfigurationPropertySource(settings))
                .bindOrCreate("conveyor.api", Bindable.of(ApiProperties.class));
    }

    private static SubmitRequests requests(String queues) {
        return new SubmitRequests(properties(Map.of("conveyor.api.queues", queues)), Clock.systemUTC(),
                UUID::randomUUID);
    }

    /** Reads {@code json} as the api reads a body, then checks it. */
    private static SubmitRequests.Checked check(SubmitRequests requests, String json, String prefix, String headerKey,
            String tenant) {
        try (var parser = Json.MAPPER.createParser(json)) {
            parser.nextToken();
            return requests.check(requests.read(parser, prefix), prefix, headerKey, tenant);
        }
    }

    @Test
    void servesTheDefaultQueueUnlessConfigured() {
        assertThat(properties(Map.of()).queues()).containsExactly("default");
        assertThat(check(requests("default"), "{\"type\": \"echo\"}", "", null, "default").job().queue())
                .isEqualTo("default");
    }

    @Test
    void acceptsEveryConfiguredQueue() {
        var checked = check(requests("default,emails"), "{\"type\": \"echo\", \"queue\": \"emails\"}", "",
                null, "default");

        assertThat(checked.errors()).isEmpty();
        assertThat(checked.job().queue()).isEqualTo("emails");
    }

    @Test
    void refusesAnotherQueueListingTheServedOnes() {
        var checked = check(requests("default,emails"), "{\"type\": \"echo\", \"queue\": \"emials\"}",
                "jobs[2].", null, "default");

        assertThat(checked.job()).isNull();
        assertThat(checked.errors()).singleElement().satisfies(error -> {
            assertThat(error.field()).isEqualTo("jobs[2].queue");
            assertThat(error.message()).contains("default, emails");
        });
    }

    @Test
    void withoutTheDefaultQueueAmongTheServedOnesAQueueIsRequired() {
        var checked = check(requests("emails"), "{\"type\": \"echo\"}", "", null, "default");

        assertThat(checked.errors()).extracting(FieldError::field).containsExactly("queue");
        assertThat(checked.errors().getFirst().message()).contains("'default'", "emails");
    }

    @Test
    void refusesToStartWithANameThatIsNoQueueName() {
        assertThatThrownBy(() -> properties(Map.of("conveyor.api.queues", "default,Emails")))
                .isInstanceOf(BindException.class)
                .rootCause().hasMessageContaining("conveyor.api.queues").hasMessageContaining("'Emails'");
    }

    /**
     * What an idempotency key stands for is the request without its key and null fields, keys sorted, numbers as
     * doubles and integers: the same hash as when the api read requests as trees, so that a key used before an
     * upgrade is replayed after it, not refused as a conflict.
     */
    @Test
    void theRequestHashIsTheCanonicalRequestsAsBefore() throws Exception {
        var checked = check(requests("default"), """
                {"type": "echo", "idempotencyKey": "k", "runAt": null,
                 "payload": {"z": [1, 2.50, 1e2, 123456789012345678901], "a": {"y": "\u00e9", "b": null}},
                 "maxAttempts": 3.0}""", "", null, "default");

        var canonical = "{\"maxAttempts\":3.0,\"payload\":{\"a\":{\"b\":null,\"y\":\"\u00e9\"},"
                + "\"z\":[1,2.5,100.0,123456789012345678901]},\"type\":\"echo\"}";
        var digest = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
        assertThat(checked.job().requestHash().legacy()).isEqualTo(HexFormat.of().formatHex(digest));
        // with decimals in its payload, the hash stored with a new job compares them exactly
        assertThat(checked.job().requestHash().stored()).startsWith(RequestHash.EXACT);
        assertThat(checked.job().requestHash().matches(checked.job().requestHash().legacy())).isTrue();
    }

    @Test
    void aRequestWithoutDecimalsIsHashedAsBefore() throws Exception {
        var checked = check(requests("default"), """
                {"type": "echo", "idempotencyKey": "k", "payload": {"z": [1, 123456789012345678901], "s": "t"}}""",
                "", null, "default");

        var canonical = "{\"payload\":{\"s\":\"t\",\"z\":[1,123456789012345678901]},\"type\":\"echo\"}";
        var digest = HexFormat.of().formatHex(
                MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8)));
        assertThat(checked.job().requestHash()).isEqualTo(new RequestHash(digest, digest));
    }

    @Test
    void anExactHashMatchesOnlyAnExactlyEqualRequestAndALegacyOneAsBefore() {
        var exact = new RequestHash(RequestHash.EXACT + "aa", "bb");
        assertThat(exact.matches(RequestHash.EXACT + "aa")).isTrue();
        assertThat(exact.matches(RequestHash.EXACT + "cc")).as("another request, the same as doubles").isFalse();
        assertThat(exact.matches("bb")).as("stored before exact numbers").isTrue();
        assertThat(exact.matches("aa")).isFalse();
        var plain = new RequestHash("bb", "bb");
        assertThat(plain.matches(RequestHash.EXACT + "bb")).isFalse();
        assertThat(plain.matches("bb")).isTrue();
    }
}
