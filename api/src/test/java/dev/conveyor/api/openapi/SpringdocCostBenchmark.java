package dev.conveyor.api.openapi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ConveyorApiApplication;
import dev.conveyor.common.test.TestKafka;
import dev.conveyor.common.test.TestPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * What springdoc costs a request that is not for it: {@code GET /v1/workers} (answered from memory, so the web layer
 * is most of its cost) against two apis in this JVM, one with springdoc and one with it turned off, in alternating
 * rounds. Run it with {@code -Dconveyor.benchmark=springdoc -Dtest=SpringdocCostBenchmark}; it prints requests per
 * second per round.
 */
@EnabledIfSystemProperty(named = "conveyor.benchmark", matches = "springdoc")
class SpringdocCostBenchmark {

    private static final int CLIENTS = 8;
    private static final int REQUESTS_PER_ROUND = 20_000;
    private static final int ROUNDS = 6;

    @Test
    void printsRequestsPerSecondWithAndWithoutSpringdoc() throws Exception {
        var with = start(true);
        var without = start(false);
        try (var http = HttpClient.newHttpClient()) {
            var apis = new LinkedHashMap<String, String>();
            apis.put("springdoc on ", base(with));
            apis.put("springdoc off", base(without));
            var rates = new LinkedHashMap<String, List<Double>>();
            for (var round = 0; round <= ROUNDS; round++) {
                for (var api : apis.entrySet()) {
                    var rate = round(http, api.getValue());
                    if (round > 0) { // round 0 warms both up
                        rates.computeIfAbsent(api.getKey(), k -> new ArrayList<>()).add(rate);
                    }
                }
            }
            rates.forEach((name, list) -> {
                Collections.sort(list);
                System.out.printf("[springdoc-cost] %s: median %.0f requests/s, rounds %s%n", name,
                        list.get(list.size() / 2), list.stream().map(r -> String.format("%.0f", r)).toList());
            });
            assertThat(rates).hasSize(2);
        } finally {
            with.close();
            without.close();
        }
    }

    private static double round(HttpClient http, String base) throws Exception {
        var request = HttpRequest.newBuilder(URI.create(base + "/v1/workers")).build();
        var started = System.nanoTime();
        try (var pool = Executors.newFixedThreadPool(CLIENTS)) {
            var futures = new ArrayList<Future<?>>();
            for (var c = 0; c < CLIENTS; c++) {
                futures.add(pool.submit(() -> {
                    for (var i = 0; i < REQUESTS_PER_ROUND / CLIENTS; i++) {
                        var response = http.send(request, HttpResponse.BodyHandlers.discarding());
                        if (response.statusCode() != 200) {
                            throw new IllegalStateException("answered " + response.statusCode());
                        }
                    }
                    return null;
                }));
            }
            for (var future : futures) {
                future.get();
            }
        }
        return REQUESTS_PER_ROUND / ((System.nanoTime() - started) / 1e9);
    }

    private static ConfigurableApplicationContext start(boolean springdoc) {
        return ConveyorApiApplication.application().run("--server.port=0",
                "--spring.datasource.url=" + TestPostgres.newDatabase(), "--spring.datasource.username=postgres",
                "--spring.datasource.password=", "--spring.kafka.bootstrap-servers=" + TestKafka.bootstrapServers(),
                "--springdoc.api-docs.enabled=" + springdoc, "--springdoc.swagger-ui.enabled=" + springdoc,
                "--logging.level.root=WARN");
    }

    private static String base(ConfigurableApplicationContext api) {
        return "http://localhost:" + api.getEnvironment().getProperty("local.server.port");
    }
}
