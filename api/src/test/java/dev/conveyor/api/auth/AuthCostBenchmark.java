package dev.conveyor.api.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ConveyorApiApplication;
import dev.conveyor.common.test.TestKafka;
import dev.conveyor.common.test.TestPostgres;
import java.lang.management.ManagementFactory;
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
 * What API keys cost a request: {@code GET /v1/jobs/{id}} of an unknown id (one indexed query, a 404 problem) and
 * {@code GET /v1/workers} (answered from memory) against two apis in this JVM, one open and one requiring keys,
 * in alternating rounds, with the JVM's CPU time per request. Run it with
 * {@code -Dconveyor.benchmark=auth -Dtest=AuthCostBenchmark}; it prints requests per second and CPU per request.
 */
@EnabledIfSystemProperty(named = "conveyor.benchmark", matches = "auth")
class AuthCostBenchmark {

    private static final String KEY = "cvk_bench-0123456789abcdef0123456789abcdef0123456789";
    private static final int CLIENTS = 8;
    private static final int REQUESTS_PER_ROUND = 20_000;
    private static final int ROUNDS = 6;

    @Test
    void printsRequestsPerSecondOpenAndWithKeys() throws Exception {
        var open = start(false);
        var keyed = start(true);
        try (var http = HttpClient.newHttpClient()) {
            for (var path : List.of("/v1/workers", "/v1/jobs/01939d6e-0000-7000-8000-000000000000")) {
                var apis = new LinkedHashMap<String, String>();
                apis.put("open    ", base(open));
                apis.put("with key", base(keyed));
                var rates = new LinkedHashMap<String, List<double[]>>();
                for (var round = 0; round <= ROUNDS; round++) {
                    for (var api : apis.entrySet()) {
                        var figures = round(http, api.getValue() + path, api.getKey().startsWith("with"));
                        if (round > 0) { // round 0 warms both up
                            rates.computeIfAbsent(api.getKey(), k -> new ArrayList<>()).add(figures);
                        }
                    }
                }
                rates.forEach((name, list) -> {
                    var perSecond = new ArrayList<>(list.stream().map(f -> f[0]).toList());
                    var cpu = new ArrayList<>(list.stream().map(f -> f[1]).toList());
                    Collections.sort(perSecond);
                    Collections.sort(cpu);
                    System.out.printf("[auth-cost] GET %s %s: median %.0f requests/s, %.1f µs CPU per request "
                            + "(this JVM: client and api), rounds %s%n", path.startsWith("/v1/jobs") ? "/v1/jobs/{id}"
                            : path, name, perSecond.get(perSecond.size() / 2), cpu.get(cpu.size() / 2),
                            perSecond.stream().map(r -> String.format("%.0f", r)).toList());
                });
                assertThat(rates).hasSize(2);
            }
        } finally {
            open.close();
            keyed.close();
        }
    }

    /** Requests per second and µs of this JVM's CPU per request. */
    private static double[] round(HttpClient http, String url, boolean withKey) throws Exception {
        var builder = HttpRequest.newBuilder(URI.create(url));
        if (withKey) {
            builder.header("Authorization", "Bearer " + KEY);
        }
        var request = builder.build();
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        var cpuBefore = os.getProcessCpuTime();
        var started = System.nanoTime();
        try (var pool = Executors.newFixedThreadPool(CLIENTS)) {
            var futures = new ArrayList<Future<?>>();
            for (var c = 0; c < CLIENTS; c++) {
                futures.add(pool.submit(() -> {
                    for (var i = 0; i < REQUESTS_PER_ROUND / CLIENTS; i++) {
                        var response = http.send(request, HttpResponse.BodyHandlers.discarding());
                        if (response.statusCode() != 200 && response.statusCode() != 404) {
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
        var seconds = (System.nanoTime() - started) / 1e9;
        return new double[] {REQUESTS_PER_ROUND / seconds,
                (os.getProcessCpuTime() - cpuBefore) / 1e3 / REQUESTS_PER_ROUND};
    }

    private static ConfigurableApplicationContext start(boolean keys) {
        var args = new ArrayList<>(List.of("--server.port=0",
                "--spring.datasource.url=" + TestPostgres.newDatabase(), "--spring.datasource.username=postgres",
                "--spring.datasource.password=", "--spring.kafka.bootstrap-servers=" + TestKafka.bootstrapServers(),
                "--logging.level.root=WARN"));
        if (keys) {
            args.addAll(List.of("--conveyor.api.auth.keys[0].id=bench", "--conveyor.api.auth.keys[0].tenant=bench",
                    "--conveyor.api.auth.keys[0].scopes=admin", "--conveyor.api.auth.keys[0].hash=" + KeyHash.of(KEY)));
        }
        return ConveyorApiApplication.application().run(args.toArray(String[]::new));
    }

    private static String base(ConfigurableApplicationContext api) {
        return "http://localhost:" + api.getEnvironment().getProperty("local.server.port");
    }
}
