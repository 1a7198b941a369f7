package dev.conveyor.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.test.TestKafka;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;

/**
 * The api's and the worker's {@code kafka} health indicators report what {@link KafkaCheck#probe} found. While Kafka
 * was away, each call of the readiness probe (every few seconds; the api's open to anyone) threw, and Spring logged a
 * WARN with a stack trace of some 80 lines each time: a probe answers, it does not throw.
 */
class KafkaCheckTest {

    @Test
    void aClusterThatDoesNotAnswerIsAProbeNotAnException() {
        try (var admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1"))) {
            var probe = KafkaCheck.probe(admin, Duration.ofMillis(500));
            assertThat(probe.answered()).isFalse();
            assertThat(probe.details()).containsOnlyKeys("error");
        }
    }

    @Test
    void aClusterThatAnswersSaysWhoItIs() {
        try (var admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                TestKafka.bootstrapServers()))) {
            var probe = KafkaCheck.probe(admin, Duration.ofSeconds(30));
            assertThat(probe.answered()).isTrue();
            assertThat(probe.details()).containsOnlyKeys("clusterId", "brokers").containsEntry("brokers", 1);
        }
    }
}
