package dev.conveyor.api.tracing;

import io.micrometer.tracing.Span;
import io.micrometer.tracing.TraceContext;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * Carries a job's trace from {@code POST /v1/jobs} onto its Kafka record (a W3C {@code traceparent} header), and
 * continues it when the worker's events about the job come back. Off unless {@code conveyor.tracing.enabled}: then
 * every method returns at its first test, adds no header and starts no span.
 *
 * <p>The trace of a submission is kept in memory until this instance publishes the job (at once, or when a delayed
 * job falls due); a job published by another api instance, or again after a retry, starts a trace of its own at
 * the worker.
 */
@Component
public class JobTracing {

    private static final Logger log = LoggerFactory.getLogger(JobTracing.class);

    /** The W3C trace-context header. */
    public static final String TRACEPARENT = "traceparent";
    /** The MDC key of the job a log line is about. */
    public static final String JOB_ID = "jobId";

    /** Submissions whose trace waits for their publication; beyond this (jobs never published here) none is kept. */
    static final int MAX_WAITING = 100_000;

    private final Tracer tracer;
    private final Propagator propagator;
    private final ConcurrentHashMap<UUID, String> waiting = new ConcurrentHashMap<>();

    JobTracing(@Value("${conveyor.tracing.enabled:false}") boolean enabled, ObjectProvider<Tracer> tracer,
            ObjectProvider<Propagator> propagator) {
        this.tracer = enabled ? tracer.getIfAvailable() : null;
        this.propagator = enabled ? propagator.getIfAvailable() : null;
    }

    public boolean enabled() {
        return tracer != null && propagator != null;
    }

    /** On the submitting request's thread: the job's record will continue the request's trace. */
    public void submitted(UUID jobId) {
        if (!enabled()) {
            return;
        }
        MDC.put(JOB_ID, jobId.toString());
        var span = tracer.currentSpan();
        if (span != null && waiting.size() < MAX_WAITING) {
            waiting.put(jobId, traceparent(span.context()));
        }
    }

    /**
     * The job's record, with the trace of its submission when this instance took it.
     *
     * @param partition its partition, or null for its key's
     */
    public ProducerRecord<String, String> jobRecord(String topic, Integer partition, UUID jobId, String value) {
        var record = new ProducerRecord<String, String>(topic, partition, jobId.toString(), value);
        if (enabled()) {
            var parent = waiting.remove(jobId);
            if (parent != null) {
                record.headers().add(TRACEPARENT, parent.getBytes(StandardCharsets.UTF_8));
            }
        }
        return record;
    }

    /** The traceparent of the current span (for a response header), or null. */
    String currentTraceparent() {
        var span = enabled() ? tracer.currentSpan() : null;
        return span == null ? null : traceparent(span.context());
    }

    /**
     * A batch of worker events is being applied: each event that carries a trace gets a span in it (a child of the
     * worker's attempt), ended by {@link Recording#close()} once the batch is written.
     */
    public Recording recording(List<ConsumerRecord<String, String>> records) {
        if (!enabled()) {
            return Recording.NONE;
        }
        var spans = new ArrayList<Span>();
        for (var record : records) {
            var header = record.headers().lastHeader(TRACEPARENT);
            if (header == null) {
                continue;
            }
            try {
                spans.add(propagator.extract(record, JobTracing::header).name("conveyor.job.recorded")
                        .kind(Span.Kind.CONSUMER).tag("conveyor.job.id", String.valueOf(record.key())).start());
            } catch (RuntimeException e) {
                // a record's headers are anyone's to write: its trace is lost, never the batch it came in
                log.debug("Not tracing the event at {}-{}@{}: {}", record.topic(), record.partition(),
                        record.offset(), e.toString());
            }
        }
        return () -> spans.forEach(Span::end);
    }

    /** The spans of a batch of events. */
    @FunctionalInterface
    public interface Recording extends AutoCloseable {

        Recording NONE = () -> { };

        @Override
        void close();
    }

    private String traceparent(TraceContext context) {
        var carrier = new HashMap<String, String>();
        propagator.inject(context, carrier, HashMap::put);
        return carrier.get(TRACEPARENT);
    }

    /** A header's text, or null when it is missing or has no value (Kafka allows a header without one). */
    private static String header(ConsumerRecord<String, String> record, String key) {
        var header = record.headers().lastHeader(key);
        return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}
