package dev.conveyor.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.common.test.HttpJson;
import dev.conveyor.common.test.TestKafka;
import dev.conveyor.common.test.TestPostgres;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroups;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The probes an orchestrator asks (Kubernetes, deploy/kubernetes/api.yaml): readiness follows the job store both ways
 * without a restart, and liveness follows neither the store nor Kafka, so that an outage of either does not have every
 * api restarted (which cures nothing, and drops every long-poll). Readiness does not ask Kafka: the api takes jobs
 * while Kafka is away, and a Kafka outage, which every api sees at once, would otherwise take them all out of their
 * Service. Both answer without a key when keys are required.
 */
@ApiTest
@DirtiesContext
@ExtendWith(OutputCaptureExtension.class)
class HealthProbesTest {

    private static final String ADMIN = "cvk_test-probes-admin-0123456789abcdef0123456789abcdef";
    private static String database;
    private static String databaseUrl;

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        databaseUrl = TestPostgres.newDatabase();
        database = databaseUrl.substring(databaseUrl.lastIndexOf('/') + 1).replaceFirst("\\?.*", "");
        registry.add("spring.datasource.url", () -> databaseUrl);
        registry.add("spring.datasource.username", () -> "postgres");
        registry.add("spring.datasource.password", () -> "");
        registry.add("spring.kafka.bootstrap-servers", TestKafka::bootstrapServers);
        ApiTests.apiKey(registry, 0, "ops-admin", "ops", ADMIN, "admin");
    }

    @LocalServerPort
    int port;
    @Autowired
    HealthEndpointGroups groups;

    /** A connection to the server's maintenance database, from where the api's database is taken away. */
    private static JdbcClient server() {
        var dataSource = new PGSimpleDataSource();
        dataSource.setUrl(databaseUrl.replace("/" + database, "/postgres"));
        dataSource.setUser("postgres");
        return JdbcClient.create(dataSource);
    }

    @Test
    void livenessStaysUpWhileTheDatabaseIsGoneAndReadinessFallsAndComesBack(CapturedOutput output) {
        var http = ApiTests.client(port);
        assertThat(http.get("/actuator/health/liveness").status()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> http.get("/actuator/health/readiness").status() == 200);
        var server = server();
        try {
            // the database refuses new connections and its sessions end: a database gone, as the api sees it
            server.sql("ALTER DATABASE " + database + " ALLOW_CONNECTIONS false").update();
            server.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name")
                    .param("name", database).query().listOfRows();

            await().atMost(Duration.ofSeconds(60)).until(() -> http.get("/actuator/health/readiness").status() == 503);
            var liveness = http.get("/actuator/health/liveness");
            assertThat(liveness.status()).as(liveness.text()).isEqualTo(200);
            assertThat(http.get("/actuator/health/readiness").status()).isEqualTo(503);
            // the probe is open to anyone, and the outage is logged where it stops work: a probe logs nothing
            assertThat(output.getAll().lines().filter(line -> line.toLowerCase().contains("health check failed")))
                    .as("lines the probes logged").isEmpty();
        } finally {
            server.sql("ALTER DATABASE " + database + " ALLOW_CONNECTIONS true").update();
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> http.get("/actuator/health/readiness").status() == 200);
        assertThat(http.get("/actuator/health/liveness").status()).isEqualTo(200);
        var admin = new HttpJson("http://localhost:" + port).withKey(ADMIN);
        assertThat(admin.get("/actuator/health").json().at("/components/db/status").asString()).isEqualTo("UP");
    }

    @Test
    void livenessAsksNeitherTheDatabaseNorKafkaAndReadinessAsksTheDatabase() {
        var liveness = groups.get("liveness");
        assertThat(liveness.isMember("livenessState")).isTrue();
        assertThat(liveness.isMember("db")).as("liveness asks the database").isFalse();
        assertThat(liveness.isMember("kafka")).as("liveness asks Kafka").isFalse();
        var readiness = groups.get("readiness");
        assertThat(readiness.isMember("readinessState")).isTrue();
        assertThat(readiness.isMember("db")).isTrue();
        assertThat(readiness.isMember("kafka")).as("readiness asks Kafka").isFalse();
    }
}
