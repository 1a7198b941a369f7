package dev.conveyor.api.workers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import dev.conveyor.common.message.WorkerHeartbeat;
import dev.conveyor.common.test.HttpJson;
import dev.conveyor.common.test.TestClock;
import dev.conveyor.common.test.TestKafka;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.bean.override.convention.TestBean;
import tools.jackson.databind.JsonNode;

/**
 * {@code GET /v1/workers} fed by heartbeats that fake workers send straight to Kafka. The api's clock stands still
 * unless a test moves it, so nothing expires by accident and expiry needs no waiting.
 */
@ApiTest
class WorkersTest {

    private static final Duration TTL = Duration.ofSeconds(30);
    private static final TestClock CLOCK = new TestClock();
    private static KafkaProducer<String, String> producer;

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
        registry.add("conveyor.api.worker-ttl", TTL::toString);
    }

    @TestBean(name = "clock")
    Clock clock;

    static Clock clock() {
        return CLOCK;
    }

    @BeforeAll
    static void producer() {
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers()),
                new StringSerializer(), new StringSerializer());
    }

    @AfterAll
    static void closeProducer() {
        producer.close();
    }

    @LocalServerPort
    int port;

    HttpJson http;
    String prefix;

    @BeforeEach
    void client() {
        http = ApiTests.client(port);
        prefix = "fake-" + UUID.randomUUID().toString().substring(0, 8) + "-";
    }

    private void send(String id, WorkerHeartbeat heartbeat, Instant recordTime) throws Exception {
        var value = heartbeat == null ? null : Json.write(heartbeat);
        producer.send(new ProducerRecord<>(Topics.WORKERS, null, recordTime.toEpochMilli(), id, value)).get();
    }

    private void beat(String id, List<String> queues, int inFlight, long completed) throws Exception {
        var now = Instant.now();
        send(id, new WorkerHeartbeat(WorkerHeartbeat.VERSION, id, queues, List.of("echo", "sleep"), inFlight,
                completed, Instant.parse("2026-01-02T03:04:05.678Z"), now), now);
    }

    /** This test's workers, in the order listed. */
    private List<JsonNode> listed() {
        var response = http.get("/v1/workers");
        assertThat(response.status()).isEqualTo(200);
        var mine = new ArrayList<JsonNode>();
        response.json().get("workers").forEach(worker -> {
            if (worker.get("id").asString().startsWith(prefix)) {
                mine.add(worker);
            }
        });
        return mine;
    }

    private List<String> listedIds() {
        return listed().stream().map(worker -> worker.get("id").asString()).toList();
    }

    @Test
    void listsEveryWorkerHeardFromByIdWithWhatItLastReported() throws Exception {
        beat(prefix + "b", List.of("default"), 0, 7);
        beat(prefix + "a", List.of("default", "mail"), 3, 1199);
        beat(prefix + "a", List.of("default", "mail"), 2, 1200);

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(listedIds()).containsExactly(prefix + "a", prefix + "b");
            assertThat(listed().getFirst().get("completed").asLong()).isEqualTo(1200);
        });
        var a = listed().getFirst();
        assertThat(a.propertyNames()).containsExactly("id", "queues", "types", "inFlight", "completed",
                "startedAt", "lastSeenAt");
        assertThat(a.get("queues")).isEqualTo(Json.tree("[\"default\", \"mail\"]"));
        assertThat(a.get("types")).isEqualTo(Json.tree("[\"echo\", \"sleep\"]"));
        assertThat(a.get("inFlight").asInt()).isEqualTo(2);
        assertThat(a.get("startedAt").asString()).isEqualTo("2026-01-02T03:04:05.678Z");
        assertThat(Instant.parse(a.get("lastSeenAt").asString())).isEqualTo(CLOCK.instant());
    }

    @Test
    void twoProcessesBeatingUnderOneIdAreCountedInTheMetrics() throws Exception {
        var id = prefix + "twice";
        for (var i = 0; i < 3; i++) {
            for (var started : List.of("2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z")) {
                var now = Instant.now();
                send(id, new WorkerHeartbeat(WorkerHeartbeat.VERSION, id, List.of("default"), List.of("echo"), 0, 0,
                        Instant.parse(started), now), now);
            }
        }

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(http.get("/actuator/prometheus").text())
                .containsPattern("(?m)^conveyor_workers_shared_ids 1(\\.0)?$"));
    }

    @Test
    void aWorkerWhoseClockIsBehindIsListedAsSeenWhenItsHeartbeatArrived() throws Exception {
        var anHourAgo = Instant.now().minus(Duration.ofHours(1));
        send(prefix + "late", new WorkerHeartbeat(WorkerHeartbeat.VERSION, prefix + "late", List.of("default"),
                List.of("echo"), 0, 0, anHourAgo, anHourAgo), anHourAgo);

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(listed()).singleElement()
                .satisfies(worker -> assertThat(Instant.parse(worker.get("lastSeenAt").asString()))
                        .isEqualTo(CLOCK.instant())));
    }

    @Test
    void aTombstoneRemovesTheWorkerAtOnce() throws Exception {
        beat(prefix + "stays", List.of("default"), 0, 0);
        beat(prefix + "stops", List.of("default"), 0, 0);
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(listedIds()).containsExactly(prefix + "stays", prefix + "stops"));

        send(prefix + "stops", null, Instant.now());

        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(listedIds()).containsExactly(prefix + "stays"));
    }

    @Test
    void aWorkerThatStopsHeartbeatingDisappearsOnceItsLastHeartbeatIsOlderThanTheTtl() throws Exception {
        beat(prefix + "silent", List.of("default"), 0, 0);
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(listedIds()).containsExactly(prefix + "silent"));
        beat(prefix + "beating", List.of("default"), 0, 0);

        CLOCK.advance(TTL.minusSeconds(1));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(listedIds())
                .containsExactly(prefix + "beating", prefix + "silent"));
        beat(prefix + "beating", List.of("default"), 0, 1);
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(listed().getFirst().get("completed").asLong()).isEqualTo(1));

        CLOCK.advance(Duration.ofSeconds(2));
        assertThat(listedIds()).containsExactly(prefix + "beating");
    }
}
