package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;

/** The reconciler's own admin client takes the api's settings, under a client id of its own where one is set. */
class SharePositionsClientIdTest {

    @Test
    void aClientIdSetForTheApiGetsASuffix() {
        assertThat(SharePositions.ownClientId(Map.of(AdminClientConfig.CLIENT_ID_CONFIG, "api-1",
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "kafka:9092")))
                .containsEntry(AdminClientConfig.CLIENT_ID_CONFIG, "api-1-reconciler")
                .containsEntry(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "kafka:9092");
    }

    @Test
    void noClientIdLeavesKafkaToNameIt() {
        assertThat(SharePositions.ownClientId(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "kafka:9092")))
                .doesNotContainKey(AdminClientConfig.CLIENT_ID_CONFIG);
    }
}
