package dev.conveyor.api;

import dev.conveyor.common.test.HttpJson;
import dev.conveyor.common.test.TestKafka;
import dev.conveyor.common.test.TestPostgres;
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

    public static HttpJson client(int port) {
        return new HttpJson("http://localhost:" + port);
    }
}
