package dev.conveyor.api;

import dev.conveyor.api.auth.KeyHash;
import dev.conveyor.common.Topics;
import dev.conveyor.common.test.HttpJson;
import dev.conveyor.common.test.TestKafka;
import dev.conveyor.common.test.TestPostgres;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.listener.MessageListenerContainer;
import org.springframework.test.context.DynamicPropertyRegistry;

/** Wiring for {@link ApiTest} classes. */
public final class ApiTests {

    private ApiTests() {
    }

    public static void services(DynamicPropertyRegistry registry) {
        var url = TestPostgres.newDatabase();
        registry.add("spring.datasource.url", () -> url);
        registry.add("spring.datasource.username", () -> "postgres");
        registry.add("spring.datasource.password", () -> "");
        registry.add("spring.kafka.bootstrap-servers", TestKafka::bootstrapServers);
    }

    /**
     * Configures API key number {@code index}: its id, tenant, scopes ({@code jobs:write}, ...) and the hash of
     * {@code key}, as an operator would.
     */
    public static void apiKey(DynamicPropertyRegistry registry, int index, String id, String tenant, String key,
            String... scopes) {
        var prefix = "conveyor.api.auth.keys[" + index + "].";
        registry.add(prefix + "id", () -> id);
        registry.add(prefix + "tenant", () -> tenant);
        registry.add(prefix + "scopes", () -> String.join(",", scopes));
        registry.add(prefix + "hash", () -> KeyHash.of(key));
    }

    /** A database of its own with the api's migrations applied, for tests of its statements without the api. */
    public static PGSimpleDataSource migratedDatabase() {
        var dataSource = new PGSimpleDataSource();
        dataSource.setUrl(TestPostgres.newDatabase());
        dataSource.setUser("postgres");
        Flyway.configure().dataSource(dataSource).load().migrate();
        return dataSource;
    }

    public static HttpJson client(int port) {
        return new HttpJson("http://localhost:" + port);
    }

    /** The context's listener of {@code conveyor.events} (to pause it, so that the api falls behind the workers). */
    public static MessageListenerContainer eventsListener(KafkaListenerEndpointRegistry listeners) {
        return listeners.getListenerContainers().stream()
                .filter(c -> List.of(c.getContainerProperties().getTopics()).contains(Topics.EVENTS))
                .findFirst().orElseThrow();
    }
}
