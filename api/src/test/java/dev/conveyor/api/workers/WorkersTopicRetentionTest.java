package dev.conveyor.api.workers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiTests;
import dev.conveyor.common.Topics;
import dev.conveyor.common.test.TestKafka;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.junit.jupiter.api.Test;

/**
 * {@code conveyor.workers} is compacted by worker id, and a worker that dies writes no tombstone: each one's last
 * heartbeat stayed on the topic for ever (and whatever ids anyone wrote to it), and every api start read them all.
 * The topic also deletes what is older than a day, by the broker's clock; an api that starts brings an existing topic
 * to that layout.
 */
class WorkersTopicRetentionTest {

    private final ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, Topics.WORKERS);

    @Test
    void anApiThatStartsLetsTheTopicDeleteHeartbeatsOlderThanADayByTheBrokersClock() throws Exception {
        try (var admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                TestKafka.bootstrapServers()))) {
            madeByAnEarlierApi(admin);

            try (var api = ApiTests.start()) {
                var config = admin.describeConfigs(List.of(topic)).all().get().get(topic);
                assertThat(config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo("compact,delete");
                assertThat(config.get(TopicConfig.RETENTION_MS_CONFIG).value()).isEqualTo("86400000");
                assertThat(config.get(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG).value()).isEqualTo("LogAppendTime");
            }
        }
    }

    /** The topic as an api before this layout made it: compacted only, each key's last record kept for ever. */
    private void madeByAnEarlierApi(Admin admin) throws Exception {
        try {
            admin.createTopics(List.of(new NewTopic(Topics.WORKERS, 1, (short) 1)
                    .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, "compact")))).all().get();
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
        admin.incrementalAlterConfigs(Map.of(topic, List.of(
                new AlterConfigOp(new ConfigEntry(TopicConfig.CLEANUP_POLICY_CONFIG, "compact"),
                        AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry(TopicConfig.RETENTION_MS_CONFIG, ""), AlterConfigOp.OpType.DELETE),
                new AlterConfigOp(new ConfigEntry(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, ""),
                        AlterConfigOp.OpType.DELETE)))).all().get();
        var config = admin.describeConfigs(List.of(topic)).all().get().get(topic);
        assertThat(config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo("compact");
    }
}
