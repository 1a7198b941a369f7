package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaBrokerProcessTest {

    @TempDir
    Path dir;

    @Test
    void runsABrokerWhoseShareGroupsDeliverRecordsAndStopsIt() throws Exception {
        var broker = KafkaBrokerProcess.start(JavaLauncher.current(), List.of(), dir.resolve("kafka"),
                dir.resolve("logs/kafka.log"));
        var pid = broker.process().pid();
        // ProcessHandle.Info gives no arguments for a process this long a command line; /proc has them all.
        assertThat(Path.of("/proc/" + pid + "/cmdline")).content()
                .as("the broker's JIT: C1 only").contains("-XX:TieredStopAtLevel=1");
        try (var admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            assertThat(admin.describeCluster().nodes().get(10, TimeUnit.SECONDS)).hasSize(1);

            admin.createTopics(List.of(new NewTopic("conveyor.jobs.default", 2, (short) 1))).all().get(10, TimeUnit.SECONDS);
            var group = new ConfigResource(ConfigResource.Type.GROUP, "conveyor.default");
            var earliest = new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"), AlterConfigOp.OpType.SET);
            admin.incrementalAlterConfigs(Map.of(group, List.of(earliest))).all().get(10, TimeUnit.SECONDS);

            // The change reaches the group coordinator through the metadata log, a moment later.
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(admin.describeConfigs(List.of(group))
                    .all().get(10, TimeUnit.SECONDS).get(group).get("share.auto.offset.reset").value()).isEqualTo("earliest"));
            assertThat(shareConsumed(broker.bootstrapServers())).containsExactly("job-1");
        } finally {
            assertThat(broker.stop()).as("broker stopped by itself on SIGTERM").isTrue();
        }

        await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(pid).isEmpty());
        assertThat(dir.resolve("logs/kafka.log")).content().contains("Kafka Server started");
    }

    @Test
    void configuresOneNodeThatAShareGroupCanUse() {
        var properties = KafkaBrokerProcess.serverProperties(9092, 9093, Path.of("/data/kafka"));

        assertThat(properties.lines()).contains(
                "process.roles=broker,controller",
                "controller.quorum.voters=1@localhost:9093",
                "listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093",
                "log.dirs=/data/kafka",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                // a dead worker's share partitions go to the others after 6 s, not 45
                "group.share.min.session.timeout.ms=6000",
                "group.share.session.timeout.ms=6000",
                "group.share.min.heartbeat.interval.ms=2000",
                "group.share.heartbeat.interval.ms=2000");
    }

    @Test
    void startsAgainAfterAKillOnTheSamePortWithItsRecordsAndExtraProperties() throws Exception {
        var broker = KafkaBrokerProcess.start(JavaLauncher.current(), List.of(), dir.resolve("kafka"),
                dir.resolve("logs/kafka.log"), Map.of("group.share.record.lock.duration.ms", "5000",
                        "group.share.min.record.lock.duration.ms", "1000"));
        try {
            try (var producer = new KafkaProducer<>(Map.<String, Object>of("bootstrap.servers", broker.bootstrapServers()),
                    new StringSerializer(), new StringSerializer())) {
                producer.send(new ProducerRecord<>("kept", "k", "before the crash")).get(30, TimeUnit.SECONDS);
            }
            var first = broker.process().pid();

            broker.kill();
            assertThat(ProcessHandle.of(first)).isEmpty();
            broker.restart();

            assertThat(broker.process().pid()).isNotEqualTo(first);
            try (var admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
                var offsets = admin.listOffsets(Map.of(new org.apache.kafka.common.TopicPartition("kept", 0),
                        org.apache.kafka.clients.admin.OffsetSpec.latest())).all().get(30, TimeUnit.SECONDS);
                assertThat(offsets.values().iterator().next().offset()).isEqualTo(1);
                var node = new ConfigResource(ConfigResource.Type.BROKER, "1");
                assertThat(admin.describeConfigs(List.of(node)).all().get(30, TimeUnit.SECONDS).get(node)
                        .get("group.share.record.lock.duration.ms").value()).isEqualTo("5000");
            }
        } finally {
            broker.stop();
        }
    }

    @Test
    void extraPropertiesReplaceOrFollowTheDefaults() {
        var properties = KafkaBrokerProcess.withExtra("a=1\nb=2\n", Map.of("b", "3"));

        assertThat(properties.lines()).containsExactly("a=1", "b=3");
    }

    @Test
    void choosesDifferentPortsForTheBrokerAndTheController() throws Exception {
        // Chosen one after another (each socket closed before the next), the two once came out equal about one
        // start in fifteen; held open together they cannot.
        for (var i = 0; i < 500; i++) {
            var ports = KafkaBrokerProcess.freePorts(2);

            assertThat(ports[0]).as("attempt %d", i).isNotEqualTo(ports[1]).isPositive();
            assertThat(ports[1]).isPositive();
        }
    }

    private static List<String> shareConsumed(String bootstrapServers) throws Exception {
        try (var producer = new KafkaProducer<>(Map.<String, Object>of("bootstrap.servers", bootstrapServers),
                new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>("conveyor.jobs.default", "id-1", "job-1")).get(10, TimeUnit.SECONDS);
        }
        var values = new ArrayList<String>();
        try (var consumer = new KafkaShareConsumer<>(Map.<String, Object>of("bootstrap.servers", bootstrapServers,
                "group.id", "conveyor.default"), new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(Set.of("conveyor.jobs.default"));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    values.add(record.value());
                }
                return !values.isEmpty();
            });
        }
        return values;
    }
}
