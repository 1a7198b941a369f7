package dev.conveyor.worker.tracing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.config.ConfigDataEnvironmentPostProcessor;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Leaves Spring Boot's tracing and OpenTelemetry set-up out unless {@code conveyor.tracing.enabled}: with it on the
 * classpath, Boot would otherwise make a tracer and a span for every HTTP request even with export turned off. Off,
 * there is no tracer, no tracing observation handler and no OpenTelemetry SDK at all.
 */
public class TracingSwitch implements EnvironmentPostProcessor, Ordered {

    /** Boot's auto-configurations of tracing, OpenTelemetry and their exporters. */
    static final List<String> TRACING_AUTO_CONFIGURATIONS = List.of(
            "org.springframework.boot.micrometer.tracing.autoconfigure.MicrometerTracingAutoConfiguration",
            "org.springframework.boot.micrometer.tracing.autoconfigure.otlp.OtlpExemplarsAutoConfiguration",
            "org.springframework.boot.micrometer.tracing.autoconfigure.prometheus.PrometheusExemplarsAutoConfiguration",
            "org.springframework.boot.micrometer.tracing.opentelemetry.autoconfigure.OpenTelemetryTracingAutoConfiguration",
            "org.springframework.boot.micrometer.tracing.opentelemetry.autoconfigure.otlp.OtlpTracingAutoConfiguration",
            "org.springframework.boot.micrometer.tracing.opentelemetry.autoconfigure.zipkin."
                    + "ZipkinWithOpenTelemetryTracingAutoConfiguration",
            "org.springframework.boot.opentelemetry.autoconfigure.OpenTelemetrySdkAutoConfiguration",
            "org.springframework.boot.opentelemetry.autoconfigure.logging.OpenTelemetryLoggingAutoConfiguration",
            "org.springframework.boot.opentelemetry.autoconfigure.logging.otlp.OtlpLoggingAutoConfiguration");

    private static final String EXCLUDE = "spring.autoconfigure.exclude";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        if (environment.getProperty("conveyor.tracing.enabled", Boolean.class, false)) {
            return;
        }
        var excluded = new ArrayList<>(Binder.get(environment).bind(EXCLUDE, Bindable.listOf(String.class))
                .orElse(List.of()));
        TRACING_AUTO_CONFIGURATIONS.stream().filter(name -> !excluded.contains(name)).forEach(excluded::add);
        environment.getPropertySources().addFirst(new MapPropertySource("conveyorTracingOff",
                Map.of(EXCLUDE, String.join(",", excluded))));
    }

    /** After the configuration files are read, so that {@code conveyor.tracing.enabled} may be set in them. */
    @Override
    public int getOrder() {
        return ConfigDataEnvironmentPostProcessor.ORDER + 1;
    }
}
