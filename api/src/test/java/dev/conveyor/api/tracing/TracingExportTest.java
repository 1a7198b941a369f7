package dev.conveyor.api.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.conveyor.api.ApiTests;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The README's way to export spans ("Tracing"): {@code conveyor.tracing.enabled=true} and
 * {@code management.opentelemetry.tracing.export.otlp.endpoint}. Without the OTLP exporter on the class path Boot
 * made no exporter, and the setting did nothing: no span left the api.
 */
class TracingExportTest {

    @Test
    void withTracingOnTheApiSendsItsSpansToTheConfiguredOtlpEndpoint() throws Exception {
        var received = new LinkedBlockingQueue<String>();
        var collector = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        collector.createContext("/v1/traces", exchange -> {
            var body = exchange.getRequestBody().readAllBytes();
            received.add(exchange.getRequestMethod() + " " + exchange.getRequestHeaders().getFirst("Content-Type")
                    + " " + body.length);
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        collector.start();
        try (var api = ApiTests.start("--conveyor.tracing.enabled=true",
                "--management.opentelemetry.tracing.export.otlp.endpoint=http://127.0.0.1:"
                        + collector.getAddress().getPort() + "/v1/traces")) {
            var answer = ApiTests.client(api).post("/v1/jobs", "{\"type\": \"echo\"}", "application/json");
            assertThat(answer.status()).isEqualTo(202);

            var export = received.poll(30, TimeUnit.SECONDS);
            assertThat(export).as("an OTLP export of the api's spans").isNotNull().startsWith("POST ");
        } finally {
            collector.stop(0);
        }
    }
}
