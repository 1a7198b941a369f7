package dev.conveyor.common.test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.utils.Exit;
import org.springframework.boot.SpringApplication;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * One real Kafka broker (KRaft, in this JVM) shared by every test of a module. Tests stay isolated by using their
 * own queue names, topics and groups.
 *
 * <p>The broker outlives every Spring context of the JVM: it stops, and its directories go, only after Spring Boot's
 * shutdown hook has closed them all. Left to itself, Kafka's test kit deletes the broker's directories in a shutdown
 * hook of its own, which the JVM runs beside Spring's: the broker then failed its log directory while the contexts
 * were still closing, and an events listener committing its offsets on the way out waited for a group coordinator
 * that no longer existed until the JVM was killed (30 s later, under surefire).
 */
public final class TestKafka {

    private static EmbeddedKafkaKraftBroker broker;

    private TestKafka() {
    }

    /** Starts the broker on first use and answers its bootstrap servers. */
    public static synchronized String bootstrapServers() {
        if (broker == null) {
            var started = new EmbeddedKafkaKraftBroker(1, 3);
            started.brokerProperties(Map.of(
                    // Share groups write their state to an internal topic; on one broker it must have one replica,
                    // else consumers join and receive nothing.
                    "share.coordinator.state.topic.replication.factor", "1",
                    "share.coordinator.state.topic.min.isr", "1",
                    "group.share.record.lock.duration.ms", "15000",
                    "group.share.min.record.lock.duration.ms", "1000",
                    // A share consumer learns of partitions assigned to it (once Kafka has initialised their share
                    // state, after its join) only with its next heartbeat: every 5 s by default, which each new
                    // queue's first consumer waited. As local's broker does (KafkaBrokerProcess), but shorter.
                    "group.share.min.heartbeat.interval.ms", "1000",
                    "group.share.heartbeat.interval.ms", "1000"));
            List<Runnable> deletions = new ArrayList<>();
            Exit.setShutdownHookAdder((name, hook) -> deletions.add(hook));
            try {
                started.afterPropertiesSet();
            } finally {
                Exit.resetShutdownHookAdder();
            }
            SpringApplication.getShutdownHandlers().add(() -> {
                started.destroy();
                deletions.forEach(Runnable::run);
            });
            broker = started;
        }
        return broker.getBrokersAsString();
    }
}
