package dev.conveyor.api;

import dev.conveyor.api.auth.KeyHash;
import dev.conveyor.api.dispatch.OwnEventsGroup;
import dev.conveyor.common.Topics;
import dev.conveyor.common.test.HttpJson;
import dev.conveyor.common.test.TestKafka;
import dev.conveyor.common.test.TestPostgres;
import java.util.List;
import java.util.stream.Stream;
import org.flywaydb.core.Flyway;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
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

    /**
     * Starts an api of its own, outside Spring's test context cache (for a test that stops it, or looks at its
     * beans), on a random port with a database and an events consumer group of its own; {@code args} as on its
     * command line. The caller closes it.
     */
    public static ConfigurableApplicationContext start(String... args) {
        return startOn(TestPostgres.newDatabase(), args);
    }

    /** As {@link #start}, on the database at {@code databaseUrl} (user {@code postgres}, no password). */
    public static ConfigurableApplicationContext startOn(String databaseUrl, String... args) {
        var application = ConveyorApiApplication.application();
        application.addPrimarySources(List.of(OwnEventsGroup.class));
        return application.run(Stream.concat(Stream.of(
                "--server.port=0",
                "--spring.datasource.url=" + databaseUrl,
                "--spring.datasource.username=postgres",
                "--spring.datasource.password=",
                "--spring.kafka.bootstrap-servers=" + TestKafka.bootstrapServers()), Stream.of(args))
                .toArray(String[]::new));
    }

    /** A client of an api started with {@link #start}. */
    public static HttpJson client(ConfigurableApplicationContext api) {
        return client(((WebServerApplicationContext) api).getWebServer().getPort());
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
