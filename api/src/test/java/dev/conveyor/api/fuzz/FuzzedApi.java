package dev.conveyor.api.fuzz;

import dev.conveyor.api.ConveyorApiApplication;
import dev.conveyor.common.Topics;
import dev.conveyor.common.test.TestKafka;
import dev.conveyor.common.test.TestPostgres;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * An api started as {@code ApiTest} starts one (its own PostgreSQL database, the shared Kafka broker), for tests that
 * run outside Spring's test framework (jqwik properties). Serves the queue {@code default}, where every hostile
 * input is aimed, and {@link #VALID_QUEUE}, where the valid ones go.
 *
 * <p>Set the system property {@code conveyor.fuzz.authorization} (e.g. {@code Bearer <key>}) to send that header
 * with every request, and pass the api's key settings as further {@code --name=value} arguments in
 * {@code conveyor.fuzz.args} (separated by spaces).
 */
final class FuzzedApi implements AutoCloseable {

    static final String VALID_QUEUE = "fuzz-valid";

    private final ConfigurableApplicationContext context;
    private final String bootstrapServers;

    private FuzzedApi(ConfigurableApplicationContext context, String bootstrapServers) {
        this.context = context;
        this.bootstrapServers = bootstrapServers;
    }

    static FuzzedApi start() {
        var bootstrapServers = TestKafka.bootstrapServers();
        var args = new ArrayList<>(List.of(
                "--server.port=0",
                "--spring.datasource.url=" + TestPostgres.newDatabase(),
                "--spring.datasource.username=postgres",
                "--spring.datasource.password=",
                "--spring.kafka.bootstrap-servers=" + bootstrapServers,
                "--spring.main.banner-mode=off",
                "--conveyor.api.dispatch.poll-interval=50ms",
                "--conveyor.api.queues=default," + VALID_QUEUE));
        var extra = System.getProperty("conveyor.fuzz.args", "").strip();
        if (!extra.isEmpty()) {
            args.addAll(List.of(extra.split("\\s+")));
        }
        return new FuzzedApi(ConveyorApiApplication.application().run(args.toArray(String[]::new)), bootstrapServers);
    }

    RawHttp http() {
        return new RawHttp(port(), System.getProperty("conveyor.fuzz.authorization"));
    }

    int port() {
        return context.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
    }

    long jobRows() {
        return context.getBean(JdbcClient.class).sql("SELECT count(*) FROM jobs").query(Long.class).single();
    }

    List<String> jobIds() {
        return context.getBean(JdbcClient.class).sql("SELECT id::text FROM jobs").query(String.class).list();
    }

    /** The end offset of every partition of every {@code conveyor.jobs.*} topic. */
    Map<TopicPartition, Long> jobTopicEnds() throws ExecutionException, InterruptedException {
        var admin = context.getBean(Admin.class);
        var topics = admin.listTopics().names().get().stream().filter(t -> t.startsWith(Topics.JOBS_PREFIX)).toList();
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        admin.describeTopics(topics).allTopicNames().get().forEach((name, description) ->
                description.partitions().forEach(p -> request.put(new TopicPartition(name, p.partition()),
                        OffsetSpec.latest())));
        var ends = new HashMap<TopicPartition, Long>();
        admin.listOffsets(request).all().get().forEach((partition, info) -> ends.put(partition, info.offset()));
        return ends;
    }

    /** A record's topic and key (a job id). */
    record Published(String topic, String key) {
    }

    /** The records written to {@code partitions} between two readings of their ends. */
    List<Published> publishedBetween(Map<TopicPartition, Long> from, Map<TopicPartition, Long> to) {
        var keys = new ArrayList<Published>();
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new StringDeserializer(),
                new StringDeserializer())) {
            var partitions = to.keySet().stream().filter(p -> to.get(p) > from.getOrDefault(p, 0L)).toList();
            consumer.assign(partitions);
            partitions.forEach(p -> consumer.seek(p, from.getOrDefault(p, 0L)));
            var deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < to.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("could not read the records up to " + to);
                }
                for (var record : consumer.poll(Duration.ofMillis(200))) {
                    var partition = new TopicPartition(record.topic(), record.partition());
                    if (record.offset() < to.get(partition)) {
                        keys.add(new Published(record.topic(), record.key()));
                    }
                }
            }
        }
        return keys;
    }

    <T> T bean(Class<T> type) {
        return context.getBean(type);
    }

    @Override
    public void close() {
        context.close();
    }
}
