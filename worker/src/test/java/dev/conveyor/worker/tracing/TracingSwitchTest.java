package dev.conveyor.worker.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.test.TestKafka;
import dev.conveyor.worker.ConveyorWorkerApplication;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.tracing.handler.TracingObservationHandler;
import io.opentelemetry.api.OpenTelemetry;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** Tracing is off unless asked for, and off it leaves nothing of tracing in the worker. */
class TracingSwitchTest {

    @Test
    void offByDefaultTheWorkerHasNoTracerNoTracingHandlerAndAddsNoHeader() {
        try (var worker = ConveyorWorkerApplication.application().run("--server.port=0",
                "--spring.kafka.bootstrap-servers=" + TestKafka.bootstrapServers(),
                "--conveyor.worker.queues=tracing-off")) {
            assertThat(worker.getBeansOfType(OpenTelemetry.class)).isEmpty();
            assertThat(worker.getBeansOfType(ObservationHandler.class).values())
                    .noneMatch(handler -> handler instanceof TracingObservationHandler<?>);
            var tracing = worker.getBean(JobTracing.class);
            assertThat(tracing.enabled()).isFalse();

            var record = new ConsumerRecord<String, String>("conveyor.jobs.tracing-off", 0, 0, "job", "{}");
            record.headers().add(JobTracing.TRACEPARENT,
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".getBytes(StandardCharsets.UTF_8));
            try (var traced = tracing.attempt(record)) {
                var event = tracing.event("conveyor.events", "job", "{}");
                assertThat(event.headers().toArray()).isEmpty();
            }
        }
    }
}
