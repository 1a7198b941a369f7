package dev.conveyor.api.results;

import dev.conveyor.api.tracing.JobTracing;
import dev.conveyor.common.Topics;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/**
 * Reads what workers report, a batch at a time. Offsets are committed only for batches applied, at most once a
 * second ({@code spring.kafka.listener.ack-time}), so a crash here replays up to a second of events, and the guarded
 * updates make replays change nothing.
 */
@Component
class EventsListener {

    private final EventApplier applier;
    private final JobTracing tracing;

    EventsListener(EventApplier applier, JobTracing tracing) {
        this.applier = applier;
        this.tracing = tracing;
    }

    @KafkaListener(id = "conveyor-events", topics = Topics.EVENTS, groupId = Topics.API_EVENTS_GROUP,
            batch = "true")
    void onEvents(List<ConsumerRecord<String, String>> records) {
        try (var traced = tracing.recording(records)) {
            applier.apply(records.stream().map(ConsumerRecord::value).toList());
        }
    }
}
