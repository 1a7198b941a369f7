package dev.conveyor.worker.http;

import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.worker.HttpSettings;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import tools.jackson.databind.JsonNode;

/** Runs the {@code http} handler directly, with the allow-lists a test needs. */
final class HttpHandlerTesting {

    /** Loopback allowed, as the test server lives there. */
    static final List<String> LOOPBACK = List.of("127.0.0.0/8", "::1/128");

    private HttpHandlerTesting() {
    }

    static HttpSettings settings(int maxResponseBytes, List<String> hosts, List<String> addresses) {
        return new HttpSettings(maxResponseBytes, hosts, addresses, Duration.ofSeconds(10), Duration.ofSeconds(2), 5,
                HttpSettings.DEFAULT_MAX_CONNECTIONS_PER_HOST);
    }

    /** Loopback allowed, and at most {@code perHost} requests at once to one host. */
    static HttpJobHandler allowingLoopback(int perHost) {
        return new HttpJobHandler(new HttpSettings(1_048_576, List.of(), LOOPBACK, Duration.ofSeconds(10),
                Duration.ofSeconds(2), 5, perHost), Clock.systemUTC());
    }

    static HttpJobHandler allowingLoopback() {
        return new HttpJobHandler(settings(1_048_576, List.of(), LOOPBACK), Clock.systemUTC());
    }

    static JobContext context(String payload) {
        return new JobContext(UUID.randomUUID(), "http", "default", 1, 3, Json.tree(payload),
                Instant.now().plusSeconds(30));
    }

    static JsonNode run(HttpJobHandler handler, String payload) throws InterruptedException {
        return handler.handle(context(payload));
    }

    static JobFailure failure(HttpJobHandler handler, String payload) {
        return catchThrowableOfType(JobFailure.class, () -> handler.handle(context(payload)));
    }

    static String get(String url) {
        return "{\"url\": \"" + url + "\"}";
    }
}
