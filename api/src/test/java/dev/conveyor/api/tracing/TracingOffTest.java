package dev.conveyor.api.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiTests;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.handler.TracingObservationHandler;
import io.opentelemetry.api.OpenTelemetry;
import org.junit.jupiter.api.Test;

/**
 * Tracing is off unless asked for, and off it leaves nothing of tracing in the api: {@link TracingSwitch} keeps
 * Boot's tracing and OpenTelemetry auto-configurations out, which would otherwise make a tracer and a span for every
 * request. (The worker's copy of the switch has its own test; a Boot upgrade that renames one of the
 * auto-configurations the switch names fails here.)
 */
class TracingOffTest {

    @Test
    void offByDefaultTheApiHasNoTracerNoTracingHandlerAndAnswersNoTraceparent() {
        try (var api = ApiTests.start()) {
            assertThat(api.getBeansOfType(OpenTelemetry.class)).isEmpty();
            // Boot's stand-in when no tracing is configured
            assertThat(api.getBeansOfType(Tracer.class).values()).allMatch(tracer -> tracer == Tracer.NOOP);
            assertThat(api.getBeansOfType(ObservationHandler.class).values())
                    .noneMatch(handler -> handler instanceof TracingObservationHandler<?>);
            assertThat(api.getBean(JobTracing.class).enabled()).isFalse();

            var answer = ApiTests.client(api).post("/v1/jobs", "{\"type\": \"echo\"}", "application/json",
                    "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
            assertThat(answer.status()).isEqualTo(202);
            assertThat(answer.header(JobTracing.TRACEPARENT)).isNull();
        }
    }

    @Test
    void everyAutoConfigurationTheSwitchLeavesOutExists() {
        // a name Boot no longer has would be left out to no effect, and its replacement would run
        assertThat(TracingSwitch.TRACING_AUTO_CONFIGURATIONS).allSatisfy(name ->
                assertThat(isOnClasspath(name)).as(name).isTrue());
    }

    private static boolean isOnClasspath(String name) {
        try {
            Class.forName(name, false, TracingOffTest.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }
}
