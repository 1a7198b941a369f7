package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ConveyorPropertiesTest {

    @Test
    void readsTheComponentsOfAConfigurationPropertiesRecordInKebabCase() {
        var source = """
                /** The worker's settings. */
                @Validated
                @ConfigurationProperties("conveyor.worker")
                public record WorkerProperties(
                        /** Identifies this worker. */
                        String id,
                        @DefaultValue("default") List<String> queues,
                        Map<String, Integer> typeLimits, // per type
                        Duration heartbeatInterval) {

                    static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(5);
                }
                """;

        assertThat(ConveyorProperties.fromRecords(source)).containsExactlyInAnyOrder("conveyor.worker.id",
                "conveyor.worker.queues", "conveyor.worker.type-limits", "conveyor.worker.heartbeat-interval");
    }

    @Test
    void acceptsThePrefixAttribute() {
        assertThat(ConveyorProperties.fromRecords("@ConfigurationProperties(prefix = \"conveyor.api\") record P(int port) {}"))
                .containsExactly("conveyor.api.port");
    }

    @Test
    void mapsPropertiesToBothEnvironmentNamesSpringBootBinds() {
        assertThat(DockerComposeFileTest.environmentNames("spring.kafka.bootstrap-servers"))
                .containsExactlyInAnyOrder("SPRING_KAFKA_BOOTSTRAPSERVERS", "SPRING_KAFKA_BOOTSTRAP_SERVERS");
    }
}
