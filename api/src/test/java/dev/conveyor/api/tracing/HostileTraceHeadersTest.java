package dev.conveyor.api.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.test.TestTracing;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;

/**
 * Workers' events are anyone's to write, headers included: a trace header without a value, or with one no trace
 * can be read from, costs that event its span and nothing else (with tracing on, the events listener applies the
 * batch inside {@link JobTracing#recording}, so a throw there stopped every event behind it).
 */
class HostileTraceHeadersTest {

    private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";

    @Test
    void aBatchWithUnreadableTraceHeadersStillTracesTheEventsThatCarryATrace() {
        var traces = new TestTracing();
        var beans = new StaticListableBeanFactory(Map.of("tracer", traces.tracer(),
                "propagator", traces.propagator()));
        var tracing = new JobTracing(true, beans.getBeanProvider(Tracer.class),
                beans.getBeanProvider(Propagator.class));
        var records = List.of(
                event("no-value", null),
                event("garbage", "not a trace \u0000"),
                event("traced", "00-" + TRACE_ID + "-00f067aa0ba902b7-01"),
                event("untraced", null));
        records.getLast().headers().remove(JobTracing.TRACEPARENT);

        try (var recording = tracing.recording(records)) {
            assertThat(traces.ended()).isEmpty();
        }

        assertThat(traces.ended()).extracting(SpanData::getTraceId).contains(TRACE_ID);
        assertThat(traces.ended()).allMatch(span -> span.getName().equals("conveyor.job.recorded"));
    }

    private static ConsumerRecord<String, String> event(String key, String traceparent) {
        var record = new ConsumerRecord<String, String>("conveyor.events", 0, 0, key, "{}");
        record.headers().add(JobTracing.TRACEPARENT,
                traceparent == null ? null : traceparent.getBytes(StandardCharsets.UTF_8));
        return record;
    }
}
