package dev.conveyor.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The job path against the images docker-compose uses (PostgreSQL 18, apache/kafka 4.2), where a Docker engine
 * runs; skipped cleanly where none does.
 */
@Testcontainers(disabledWithoutDocker = true)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ContainersEndToEndTest {

    @Container
    static final PostgreSQLContainer postgres = new PostgreSQLContainer("postgres:18");

    @Container
    static final KafkaContainer kafka = new KafkaContainer("apache/kafka:4.2.1")
            .withEnv("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR", "1")
            .withEnv("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR", "1");

    private RunningSystem system;

    @BeforeAll
    void start() {
        system = new RunningSystem(new RunningSystem.Services(postgres.getJdbcUrl(), postgres.getUsername(),
                postgres.getPassword(), kafka.getBootstrapServers()), "containers", "container-worker");
    }

    @AfterAll
    void stop() {
        if (system != null) {
            system.close();
        }
    }

    @Test
    void aJobRunsThroughContainerizedKafkaAndPostgres() {
        var submitted = system.http().post("/v1/jobs",
                "{\"type\": \"echo\", \"queue\": \"containers\", \"payload\": {\"in\": \"docker\"}}").json();

        var job = system.http().get("/v1/jobs/" + submitted.get("id").asString() + "?wait=60").json();

        assertThat(job.get("status").asString()).isEqualTo("SUCCEEDED");
        assertThat(job.get("result")).isEqualTo(Json.tree("{\"in\": \"docker\"}"));
    }
}
