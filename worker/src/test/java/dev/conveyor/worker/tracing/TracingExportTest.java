package dev.conveyor.worker.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.conveyor.common.test.TestKafka;
import dev.conveyor.worker.ConveyorWorkerApplication;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * The README's way to export spans ("Tracing"): {@code conveyor.tracing.enabled=true} and
 * {@code management.opentelemetry.tracing.export.otlp.endpoint}. Without the OTLP exporter on the class path Boot
 * made no exporter, and the setting did nothing: no attempt's span left the worker.
 */
class TracingExportTest {

    @Test
    void withTracingOnTheWorkerSendsAnAttemptsSpanToTheConfiguredOtlpEndpoint() throws Exception {
        var received = new LinkedBlockingQueue<String>();
        var collector = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        collector.createContext("/v1/traces", exchange -> {
            exchange.getRequestBody().readAllBytes();
            received.add(exchange.getRequestMethod());
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        collector.start();
        try (var worker = ConveyorWorkerApplication.application().run("--server.port=0",
                "--spring.kafka.bootstrap-servers=" + TestKafka.bootstrapServers(),
                "--conveyor.worker.queues=tracing-export", "--conveyor.tracing.enabled=true",
                "--management.opentelemetry.tracing.export.otlp.endpoint=http://127.0.0.1:"
                        + collector.getAddress().getPort() + "/v1/traces")) {
            var tracing = worker.getBean(JobTracing.class);
            assertThat(tracing.enabled()).isTrue();
            var record = new ConsumerRecord<String, String>("conveyor.jobs.tracing-export", 0, 0, "job", "{}");
            record.headers().add(JobTracing.TRACEPARENT,
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".getBytes(StandardCharsets.UTF_8));
            try (var traced = tracing.attempt(record)) {
                assertThat(traced).isNotNull();
            }

            assertThat(received.poll(30, TimeUnit.SECONDS)).as("an OTLP export of the attempt's span").isEqualTo("POST");
        } finally {
            collector.stop(0);
        }
    }
}
