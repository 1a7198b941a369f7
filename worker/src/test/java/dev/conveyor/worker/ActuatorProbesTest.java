package dev.conveyor.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.test.TestKafka;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroups;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The worker's actuator port, which its probes and Prometheus reach (and, without a network policy, anyone in the
 * cluster): liveness asks neither Kafka nor the consumers, and requests it refuses are not logged.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(OutputCaptureExtension.class)
class ActuatorProbesTest {

    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private ConfigurableApplicationContext worker;
    private int port;

    @BeforeAll
    void start() {
        worker = ConveyorWorkerApplication.application().run("--server.port=0",
                "--spring.kafka.bootstrap-servers=" + TestKafka.bootstrapServers(),
                "--conveyor.worker.queues=actuator-probes");
        port = Integer.parseInt(worker.getEnvironment().getProperty("local.server.port"));
    }

    @AfterAll
    void stop() {
        worker.close();
    }

    private int send(String method, String path) throws Exception {
        var request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .method(method, HttpRequest.BodyPublishers.ofString("{}")).timeout(Duration.ofSeconds(30)).build();
        return CLIENT.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void livenessAsksNeitherKafkaNorTheConsumers() {
        var liveness = worker.getBean(HealthEndpointGroups.class).get("liveness");
        assertThat(liveness.isMember("livenessState")).isTrue();
        assertThat(liveness.isMember("kafka")).isFalse();
        assertThat(liveness.isMember("consumers")).isFalse();
    }

    @Test
    void requestsItRefusesLogNothing(CapturedOutput output) throws Exception {
        var before = output.getAll().length();
        var statuses = new ArrayList<Integer>();
        for (var i = 0; i < 20; i++) {
            for (var path : List.of("/actuator/health/liveness", "/actuator/health/readiness", "/actuator/prometheus")) {
                statuses.add(send("PUT", path));
                statuses.add(send("X".repeat(4000), path));
            }
        }
        assertThat(statuses).containsOnly(405);
        assertThat(output.getAll().substring(before).lines()
                .filter(line -> line.contains(" WARN ") || line.contains(" ERROR "))
                .map(line -> line.length() > 200 ? line.substring(0, 200) : line))
                .as("lines logged for requests refused").isEmpty();
    }
}
