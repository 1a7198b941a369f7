package dev.conveyor.worker.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.test.TestTracing;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;

/**
 * A job's record is anyone's to write, headers included: a trace header without a value (Kafka allows one) gives
 * the job a trace of its own. Before, reading it threw where the queue's consumer takes a record, before the
 * record's acknowledgement was decided.
 */
class HostileTraceHeadersTest {

    @Test
    void aTraceHeaderWithoutAValueStartsATraceOfTheJobsOwn() {
        var traces = new TestTracing();
        var beans = new StaticListableBeanFactory(Map.of("tracer", traces.tracer(),
                "propagator", traces.propagator()));
        var tracing = new JobTracing(true, beans.getBeanProvider(Tracer.class),
                beans.getBeanProvider(Propagator.class));
        var record = new ConsumerRecord<String, String>("conveyor.jobs.default", 0, 0, "job", "{}");
        record.headers().add(JobTracing.TRACEPARENT, null);

        try (var traced = tracing.attempt(record)) {
            var event = tracing.event("conveyor.events", "job", "{}");
            var header = event.headers().lastHeader(JobTracing.TRACEPARENT);
            assertThat(header).isNotNull();
            assertThat(new String(header.value(), StandardCharsets.UTF_8))
                    .contains(traces.tracer().currentSpan().context().traceId());
        }

        assertThat(traces.ended()).singleElement()
                .satisfies(span -> assertThat(span.getName()).isEqualTo("conveyor.job.attempt"))
                .satisfies(span -> assertThat(span.getParentSpanContext().isValid()).isFalse());
    }
}
