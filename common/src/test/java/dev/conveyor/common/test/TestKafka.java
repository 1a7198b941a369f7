package dev.conveyor.common.test;

import java.util.Map;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * One real Kafka broker (KRaft, in this JVM) shared by every test of a module. Tests stay isolated by using their
 * own queue names, topics and groups.
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
                    "group.share.min.record.lock.duration.ms", "1000"));
            started.afterPropertiesSet();
            // Not destroyed at exit: the Spring contexts of the tests close in shutdown hooks too, and their clients
            // would wait for a broker that is gone. The broker dies with the JVM.
            broker = started;
        }
        return broker.getBrokersAsString();
    }
}
