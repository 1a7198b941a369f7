package dev.conveyor.api.workers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTests;
import dev.conveyor.common.Topics;
import dev.conveyor.common.test.TestKafka;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code conveyor.workers} is compacted by worker id, and a worker that dies writes no tombstone: each one's last
 * heartbeat stayed on the topic for ever (and whatever ids anyone wrote to it), and every api start read them all.
 * The topic also deletes what is older than a day, by the broker's clock; an api that starts brings an existing topic
 * to that layout, and leaves what an operator set on the topic.
 */
class WorkersTopicRetentionTest {

    private static final String A_WEEK = String.valueOf(Duration.ofDays(7).toMillis());

    private final ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, Topics.WORKERS);

    private Admin admin;

    @BeforeEach
    void connect() throws Exception {
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers()));
        try {
            admin.createTopics(List.of(new NewTopic(Topics.WORKERS, 1, (short) 1))).all().get();
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
    }

    @AfterEach
    void close() {
        admin.close();
    }

    @Test
    void anApiThatStartsLetsTheTopicDeleteHeartbeatsOlderThanADayByTheBrokersClock() throws Exception {
        // the topic as an api before this layout made it: compacted only, each key's last record kept for ever
        set(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, "compact"),
                TopicConfig.RETENTION_MS_CONFIG, TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG);
        assertThat(config().get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo("compact");

        try (var api = ApiTests.start()) {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                var config = config();
                assertThat(config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo("compact,delete");
                assertThat(config.get(TopicConfig.RETENTION_MS_CONFIG).value()).isEqualTo("86400000");
                assertThat(config.get(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG).value()).isEqualTo("LogAppendTime");
            });
        }
    }

    /** Spring Kafka's {@code modify-topic-configs} set these back to the api's values at every start. */
    @Test
    void whatAnOperatorSetOnTheTopicStays() throws Exception {
        set(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, "delete",
                TopicConfig.RETENTION_MS_CONFIG, A_WEEK,
                TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "CreateTime",
                TopicConfig.SEGMENT_MS_CONFIG, "600000"));

        assertThat(new WorkersTopicLayout(admin).apply()).isEmpty();

        var config = config();
        assertThat(config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo("delete");
        assertThat(config.get(TopicConfig.RETENTION_MS_CONFIG).value()).isEqualTo(A_WEEK);
        assertThat(config.get(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG).value()).isEqualTo("CreateTime");
        assertThat(config.get(TopicConfig.SEGMENT_MS_CONFIG).value()).isEqualTo("600000");
    }

    /** Spring Kafka's {@code modify-topic-configs} set the retention back to a day at every start of an api. */
    @Test
    void aCompactedOnlyTopicGetsTheDeletePolicyAndKeepsTheRetentionSetOnIt() throws Exception {
        set(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, "compact", TopicConfig.RETENTION_MS_CONFIG, A_WEEK,
                TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime", TopicConfig.SEGMENT_MS_CONFIG, "600000"));

        try (var api = ApiTests.start()) {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(config().get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo("compact,delete"));
            var config = config();
            assertThat(config.get(TopicConfig.RETENTION_MS_CONFIG).value()).isEqualTo(A_WEEK);
            assertThat(config.get(TopicConfig.SEGMENT_MS_CONFIG).value()).isEqualTo("600000");
        }
    }

    /** Such as a topic Kafka made on a worker's first send, before any api or worker created it. */
    @Test
    void aTopicWithTheBrokersDefaultsGetsTheWholeLayout() throws Exception {
        set(Map.of(), TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.RETENTION_MS_CONFIG,
                TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, TopicConfig.SEGMENT_MS_CONFIG);
        assertThat(config().get(TopicConfig.CLEANUP_POLICY_CONFIG).source())
                .isNotEqualTo(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);

        assertThat(new WorkersTopicLayout(admin).apply()).containsExactlyInAnyOrder(TopicConfig.CLEANUP_POLICY_CONFIG,
                TopicConfig.RETENTION_MS_CONFIG, TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG,
                TopicConfig.SEGMENT_MS_CONFIG);

        var config = config();
        assertThat(config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo("compact,delete");
        assertThat(config.get(TopicConfig.RETENTION_MS_CONFIG).value()).isEqualTo("86400000");
        assertThat(config.get(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG).value()).isEqualTo("LogAppendTime");
        assertThat(config.get(TopicConfig.SEGMENT_MS_CONFIG).value()).isEqualTo("3600000");
        assertThat(new WorkersTopicLayout(admin).apply()).isEmpty();
    }

    private Config config() throws Exception {
        return admin.describeConfigs(List.of(topic)).all().get().get(topic);
    }

    /** Sets {@code values} on the topic and removes the topic's own value of each of {@code removed}. */
    private void set(Map<String, String> values, String... removed) throws Exception {
        var ops = new ArrayList<AlterConfigOp>();
        values.forEach((name, value) ->
                ops.add(new AlterConfigOp(new ConfigEntry(name, value), AlterConfigOp.OpType.SET)));
        for (var name : removed) {
            ops.add(new AlterConfigOp(new ConfigEntry(name, ""), AlterConfigOp.OpType.DELETE));
        }
        admin.incrementalAlterConfigs(Map.of(topic, ops)).all().get();
    }
}
