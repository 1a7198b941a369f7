package dev.conveyor.worker.tracing;

import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.MDC;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * Continues a job's trace in the worker: an attempt runs in a span that is a child of the {@code traceparent} on its
 * record (the api's {@code POST /v1/jobs}), its log lines carry {@code jobId} and {@code traceId} in the MDC, and
 * the events it sends carry the attempt's {@code traceparent} back to the api. Off unless
 * {@code conveyor.tracing.enabled}: then every method returns at its first test, adds no header and starts no span.
 */
@Component
public class JobTracing {

    /** The W3C trace-context header. */
    public static final String TRACEPARENT = "traceparent";
    /** MDC keys of the log lines about a job. */
    public static final String JOB_ID = "jobId";
    public static final String TRACE_ID = "traceId";

    private static final Traced NOT_TRACED = () -> { };

    private final Tracer tracer;
    private final Propagator propagator;

    @Autowired
    JobTracing(@Value("${conveyor.tracing.enabled:false}") boolean enabled, ObjectProvider<Tracer> tracer,
            ObjectProvider<Propagator> propagator) {
        this(enabled ? tracer.getIfAvailable() : null, enabled ? propagator.getIfAvailable() : null);
    }

    private JobTracing(Tracer tracer, Propagator propagator) {
        this.tracer = tracer;
        this.propagator = propagator;
    }

    /** Tracing off (for tests that build a runner by hand). */
    public static JobTracing off() {
        return new JobTracing(null, null);
    }

    public boolean enabled() {
        return tracer != null && propagator != null;
    }

    /**
     * Starts the span of the job of {@code record} on this thread, as a child of the trace on the record (a trace of
     * its own when there is none, or none that can be read), until {@link Traced#close()}.
     */
    public Traced attempt(ConsumerRecord<String, String> record) {
        if (!enabled()) {
            return NOT_TRACED;
        }
        Span.Builder builder;
        try {
            builder = propagator.extract(record, JobTracing::header);
        } catch (RuntimeException e) {
            // a record's headers are anyone's to write: a trace that cannot be read gives the job one of its own
            builder = tracer.spanBuilder();
        }
        var span = builder.name("conveyor.job.attempt").kind(Span.Kind.CONSUMER)
                .tag("conveyor.job.id", String.valueOf(record.key()))
                .tag("messaging.destination.name", record.topic()).start();
        var scope = tracer.withSpan(span);
        MDC.put(JOB_ID, String.valueOf(record.key()));
        MDC.put(TRACE_ID, span.context().traceId());
        return () -> {
            MDC.remove(JOB_ID);
            MDC.remove(TRACE_ID);
            scope.close();
            span.end();
        };
    }

    /** An event about a job, carrying the trace of the current attempt. */
    public ProducerRecord<String, String> event(String topic, String key, String value) {
        var record = new ProducerRecord<String, String>(topic, key, value);
        var span = enabled() ? tracer.currentSpan() : null;
        if (span != null) {
            var carrier = new HashMap<String, String>();
            propagator.inject(span.context(), carrier, HashMap::put);
            var traceparent = carrier.get(TRACEPARENT);
            if (traceparent != null) {
                record.headers().add(TRACEPARENT, traceparent.getBytes(StandardCharsets.UTF_8));
            }
        }
        return record;
    }

    /** The span of one job on this thread. */
    @FunctionalInterface
    public interface Traced extends AutoCloseable {

        @Override
        void close();
    }

    /** A header's text, or null when it is missing or has no value (Kafka allows a header without one). */
    private static String header(ConsumerRecord<String, String> record, String key) {
        var header = record.headers().lastHeader(key);
        return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}
