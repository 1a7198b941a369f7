package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import dev.conveyor.common.test.HttpJson;
import dev.conveyor.common.test.TestKafka;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Fair sharing: a tenant's backlog stays in PostgreSQL beyond its window, so another tenant's job goes on Kafka right
 * behind at most a window of it. No worker runs: the test reads the queue's topic (one partition, so in order) and
 * plays the workers' start events.
 */
@ApiTest
class FairnessTest {

    private static final String QUEUE = "fair-q";
    private static final int WINDOW = 5;
    private static final String ACME = "cvk_fair-acme-0123456789abcdef0123456789abcdef";
    private static final String GLOBEX = "cvk_fair-globex-0123456789abcdef0123456789abcdef";

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
        registry.add("conveyor.api.queues", () -> QUEUE);
        registry.add("conveyor.api.queue-partitions", () -> "1");
        registry.add("conveyor.api.dispatch.tenant-window", () -> String.valueOf(WINDOW));
        ApiTests.apiKey(registry, 0, "acme", "acme", ACME, "jobs:write", "jobs:read");
        ApiTests.apiKey(registry, 1, "globex", "globex", GLOBEX, "jobs:write", "jobs:read");
    }

    @LocalServerPort
    int port;
    @Autowired
    JdbcClient jdbc;

    HttpJson acme;
    HttpJson globex;
    KafkaConsumer<String, String> records;
    KafkaProducer<String, String> events;
    final List<UUID> published = new CopyOnWriteArrayList<>();

    @BeforeEach
    void clients() {
        acme = ApiTests.client(port).withKey(ACME);
        globex = ApiTests.client(port).withKey(GLOBEX);
        records = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers()),
                new StringDeserializer(), new StringDeserializer());
        events = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers()),
                new StringSerializer(), new StringSerializer());
    }

    /**
     * Ends every job of the test as a worker would: this context stays cached while other test classes run, and its
     * rescuer would otherwise, after a while, retry the jobs whose (played) worker fell silent and publish them again.
     */
    @AfterEach
    void close() {
        var open = jdbc.sql("SELECT id FROM jobs WHERE queue = :queue AND status IN ('QUEUED', 'RUNNING')")
                .param("queue", QUEUE).query(UUID.class).list();
        for (var id : open) {
            events.send(new ProducerRecord<>(Topics.EVENTS, id.toString(), """
                    {"event": "finished", "v": 1, "jobId": "%s", "attempt": 1, "generation": 0, "maxAttempts": 3,
                     "workerId": "w1", "outcome": "SUCCEEDED", "result": {},
                     "at": "%s"}""".formatted(id, Instant.now())));
        }
        events.flush();
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.sql(
                        "SELECT count(*) FROM jobs WHERE queue = :queue AND status IN ('QUEUED', 'RUNNING')")
                .param("queue", QUEUE).query(Long.class).single() == 0);
        records.close();
        events.close();
    }

    /** The jobs on the queue's topic so far, in order. */
    private List<UUID> readPublished() {
        if (records.assignment().isEmpty()) {
            var partition = new TopicPartition(Topics.jobs(QUEUE), 0);
            records.assign(List.of(partition));
            records.seekToBeginning(List.of(partition));
        }
        records.poll(Duration.ofMillis(100)).forEach(record ->
                published.add(UUID.fromString(Json.tree(record.value()).get("jobId").asString())));
        return published;
    }

    private List<UUID> submitBatch(HttpJson client, int n) {
        var items = new ArrayList<String>();
        for (var i = 0; i < n; i++) {
            items.add("{\"type\": \"echo\", \"queue\": \"" + QUEUE + "\"}");
        }
        var response = client.post("/v1/jobs/batch", "{\"jobs\": [" + String.join(",", items) + "]}");
        assertThat(response.status()).as(response.text()).isEqualTo(202);
        return response.json().get("jobs").valueStream().map(job -> UUID.fromString(job.get("id").asString()))
                .toList();
    }

    private void started(List<UUID> ids) {
        for (var id : ids) {
            events.send(new ProducerRecord<>(Topics.EVENTS, id.toString(), """
                    {"event": "started", "v": 1, "jobId": "%s", "attempt": 1, "generation": 0, "workerId": "w1",
                     "at": "%s"}""".formatted(id, Instant.now())));
        }
        events.flush();
    }

    @Test
    void anotherTenantsJobWaitsBehindAtMostAWindowOfABacklog() {
        var backlog = submitBatch(acme, 50);
        var newcomer = submitBatch(globex, 1).getFirst();

        // globex's job goes out at once although acme has 45 waiting; acme's window holds exactly 5 on Kafka (the two
        // tenants' records are published side by side, so globex's may come before some of acme's first 5)
        await().atMost(Duration.ofSeconds(30)).until(() -> readPublished().contains(newcomer)
                && published.stream().filter(backlog::contains).count() >= WINDOW);
        var ahead = published.stream().filter(backlog::contains).toList();
        assertThat(ahead).hasSize(WINDOW);
        // the rest wait in this instance's backlog, stored with its lease so that no poller claims them meanwhile
        // (BacklogTest; a claim of the poller that raced the batch for the window gives back what it took beyond it:
        // PollerKeepsToTheWindowTest)
        assertThat(jdbc.sql("SELECT count(*) FROM jobs WHERE tenant = 'acme' AND dispatch_lease_until IS NOT NULL"
                + " AND dispatched_at IS NULL AND dispatch_owner IS NOT NULL").query(Long.class).single())
                .isGreaterThanOrEqualTo(50 - WINDOW);
        assertThat(readPublished().stream().filter(backlog::contains)).hasSize(WINDOW);

        // as the workers start acme's jobs, its window frees up and the poller publishes the next ones from the
        // backlog, oldest first
        // (the starts free the window a slot or a few at a time, so the next five may leave in more than one claim,
        // and the publications of two claims run side by side: their records may interleave on Kafka)
        started(List.copyOf(ahead));
        await().atMost(Duration.ofSeconds(30))
                .until(() -> readPublished().stream().filter(backlog::contains).count() >= 2 * WINDOW);
        var acmes = published.stream().filter(backlog::contains).toList();
        assertThat(acmes).hasSize(2 * WINDOW).containsExactlyInAnyOrderElementsOf(backlog.subList(0, 2 * WINDOW));

        // every job gets out as the earlier ones start, a window at a time
        var startedSoFar = new java.util.HashSet<>(ahead);
        while (startedSoFar.size() < backlog.size()) {
            var unstarted = readPublished().stream().filter(backlog::contains).filter(id -> !startedSoFar.contains(id))
                    .toList();
            assertThat(unstarted).hasSizeLessThanOrEqualTo(WINDOW).isNotEmpty();
            started(unstarted);
            startedSoFar.addAll(unstarted);
            var expected = Math.min(backlog.size(), startedSoFar.size() + WINDOW);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> readPublished().stream().filter(backlog::contains).count() >= expected);
        }
        assertThat(published.stream().filter(backlog::contains).distinct().count()).isEqualTo(backlog.size());
    }

    @Test
    void aJobCancelledWhileItWaitsPastTheWindowIsNeverPublished() {
        var burst = submitBatch(acme, 2 * WINDOW);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> readPublished().stream().filter(burst::contains).count() >= WINDOW);
        var ahead = published.stream().filter(burst::contains).toList();
        assertThat(ahead).containsExactlyInAnyOrderElementsOf(burst.subList(0, WINDOW));

        var cancelled = burst.get(WINDOW); // the oldest of those kept for later
        var answer = acme.post("/v1/jobs/" + cancelled + "/cancel", "");
        assertThat(answer.status()).isEqualTo(202);
        assertThat(answer.json().get("status").asString()).isEqualTo("CANCELLED");

        // the window frees up: the rest go out, oldest first, so the cancelled job would have come before them
        // (one producer, one partition: in the order they were sent)
        started(ahead);
        var rest = burst.subList(WINDOW + 1, burst.size());
        await().atMost(Duration.ofSeconds(30)).until(() -> readPublished().containsAll(rest));
        assertThat(published).doesNotContain(cancelled);
        assertThat(published.stream().filter(burst::contains)).hasSize(2 * WINDOW - 1);

        // started, so that they hold none of acme's window in the next test
        started(rest);
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.sql(
                        "SELECT count(*) FROM jobs WHERE id = ANY(:ids) AND status = 'RUNNING'")
                .param("ids", rest.toArray(UUID[]::new)).query(Long.class).single() == rest.size());
    }
}
