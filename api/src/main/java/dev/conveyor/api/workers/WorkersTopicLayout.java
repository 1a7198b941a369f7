package dev.conveyor.api.workers;

import dev.conveyor.common.Topics;
import dev.conveyor.common.kafka.WorkersTopic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Brings a {@code conveyor.workers} made by an earlier api (compacted only, so the last heartbeat of every worker that
 * died stayed on it for ever) to the layout of {@link WorkersTopic}, once per start, without undoing what an operator
 * set on the topic by hand.
 *
 * <p>Spring Kafka's {@code modify-topic-configs} set every setting the api names back to the api's value at each
 * start, so a retention an operator had chosen lasted until the next deploy. Here:
 * <ul>
 *   <li>a setting of the layout is set where the topic has no value of its own (Kafka reports the broker's or its
 *       default: a topic Kafka created on a worker's first send, say); a value set on the topic stays,
 *   <li>but for a cleanup policy without {@code delete}, which gets {@code compact,delete}: that is the layout's
 *       point, and a topic made by an api before it has {@code compact}.
 * </ul>
 * It runs on a thread of its own once the api is ready, and never holds up the start: Kafka may be down (then the
 * next start tries again, and meanwhile the topic only keeps more than it needs).
 */
@Component
class WorkersTopicLayout {

    private static final Logger log = LoggerFactory.getLogger(WorkersTopicLayout.class);

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final Admin admin;

    WorkersTopicLayout(Admin admin) {
        this.admin = admin;
    }

    @EventListener(ApplicationReadyEvent.class)
    void applyInBackground() {
        Thread.ofVirtual().name("workers-topic-layout").start(this::apply);
    }

    /** Sets what is missing; returns the settings changed (empty when the topic was as it should be, or is absent). */
    List<String> apply() {
        var topic = new ConfigResource(ConfigResource.Type.TOPIC, Topics.WORKERS);
        try {
            var config = admin.describeConfigs(List.of(topic)).all()
                    .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).get(topic);
            var changes = changes(config);
            if (!changes.isEmpty()) {
                admin.incrementalAlterConfigs(Map.of(topic, changes)).all()
                        .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                log.info("Brought {} to the layout of this version: {}", Topics.WORKERS,
                        changes.stream().map(op -> op.configEntry().name() + "=" + op.configEntry().value()).toList());
            }
            return changes.stream().map(op -> op.configEntry().name()).toList();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) { // a worker or the next start creates it
                log.warn("Could not check the settings of {} (the next start tries again): {}", Topics.WORKERS,
                        e.getCause().toString());
            }
        } catch (TimeoutException e) {
            log.warn("Could not check the settings of {} within {} s (the next start tries again)", Topics.WORKERS,
                    TIMEOUT.toSeconds());
        }
        return List.of();
    }

    static List<AlterConfigOp> changes(Config config) {
        var changes = new ArrayList<AlterConfigOp>();
        WorkersTopic.CONFIGS.forEach((name, wanted) -> {
            var entry = config.get(name);
            var setOnTheTopic = entry != null && entry.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG;
            var lacksDelete = name.equals(TopicConfig.CLEANUP_POLICY_CONFIG) && setOnTheTopic
                    && !policies(entry.value()).contains(TopicConfig.CLEANUP_POLICY_DELETE);
            if (!setOnTheTopic || lacksDelete) {
                changes.add(new AlterConfigOp(new ConfigEntry(name, wanted), AlterConfigOp.OpType.SET));
            }
        });
        return changes;
    }

    private static List<String> policies(String value) {
        return value == null ? List.of() : Arrays.stream(value.split(",")).map(String::strip).toList();
    }
}
