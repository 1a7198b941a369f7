package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.test.HttpJson;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Jobs the api cannot publish are published again from their rows, and the log says so once per run of failures,
 * never with a job's record: Spring Kafka's default producer listener logged an error with the first 100 characters of
 * every record Kafka did not take (a job's payload, an {@code http} job's URL among it), and the dispatcher a warning
 * per job, thousands a minute during a Kafka outage.
 *
 * <p>These jobs' records fail in this api's producer ({@link Unreachable}, its value serializer here, throws what a
 * broker that cannot be reached makes the producer report), which fails their sends through the producer and its
 * callbacks as an outage does. (A record Kafka refuses as too large fails its job instead: OversizedRecordsTest.)
 */
@ApiTest
class PublishFailuresLogTest {

    private static final String QUEUE = "publish-failures";
    private static final String MARKER = "payload-that-must-not-be-logged";

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
        registry.add("conveyor.api.queues", () -> QUEUE);
        registry.add("spring.kafka.producer.value-serializer", Unreachable.class::getName);
    }

    @LocalServerPort
    int port;
    @Autowired
    KafkaTemplate<String, String> kafka;

    private final Recorded logged = new Recorded();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final List<String> tooLarge = new ArrayList<>();
    private HttpJson http;

    @BeforeEach
    void listen() {
        http = ApiTests.client(port);
        root.addAppender(logged);
        logged.start();
    }

    @AfterEach
    void stopTheRetries() {
        root.detachAppender(logged);
        // or the poller publishes them every 50 ms for as long as this context lives
        tooLarge.forEach(id -> assertThat(http.post("/v1/jobs/" + id + "/cancel", "").status()).isEqualTo(202));
    }

    @Test
    void aRunOfFailedPublicationsIsOneWarningWithoutRecordsAndItsEndOneLine() {
        var big = MARKER + "x".repeat(3000);
        for (var i = 0; i < 3; i++) {
            var response = http.post("/v1/jobs",
                    "{\"type\": \"echo\", \"queue\": \"" + QUEUE + "\", \"payload\": {\"text\": \"" + big + "\"}}");
            assertThat(response.status()).as(response.text()).isEqualTo(202);
            tooLarge.add(response.json().get("id").asString());
        }
        var failuresBefore = recordErrors();
        // each job tried again and again (the poller looks every 50 ms here)
        await().atMost(Duration.ofSeconds(30)).until(() -> recordErrors() - failuresBefore >= 4 * tooLarge.size());

        // (other test classes' apis may share this JVM and its loggers: only lines naming these jobs count)
        assertThat(dispatcherLines(Level.WARN)).filteredOn(this::namesOneOfThem).hasSize(1).first().asString()
                // why, not Spring Kafka's "Send failed" around it
                .contains("Could not publish job", "counted, not logged", Unreachable.WHY);
        assertThat(logged.list).noneMatch(event -> event.getFormattedMessage().contains(MARKER));
        assertThat(logged.list).noneMatch(event -> event.getLevel() == Level.ERROR
                && namesOneOfThem(event.getFormattedMessage()));

        // a job Kafka takes ends the run
        var small = http.post("/v1/jobs", "{\"type\": \"echo\", \"queue\": \"" + QUEUE + "\"}");
        assertThat(small.status()).as(small.text()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> !dispatcherLines(Level.INFO).isEmpty());
        assertThat(dispatcherLines(Level.INFO).getFirst()).contains("Kafka takes jobs again");
        assertThat(logged.list).noneMatch(event -> event.getFormattedMessage().contains(MARKER));
    }

    private boolean namesOneOfThem(String line) {
        return tooLarge.stream().anyMatch(line::contains);
    }

    private List<String> dispatcherLines(Level level) {
        return logged.list.stream()
                .filter(event -> event.getLoggerName().equals(Dispatcher.class.getName()) && event.getLevel() == level)
                .map(ILoggingEvent::getFormattedMessage)
                .toList();
    }

    private double recordErrors() {
        return kafka.metrics().entrySet().stream()
                .filter(metric -> metric.getKey().name().equals("record-error-total")
                        && metric.getKey().group().equals("producer-metrics"))
                .mapToDouble(metric -> ((Number) metric.getValue().metricValue()).doubleValue())
                .sum();
    }

    /** Fails the records that carry {@link #MARKER} as a broker that cannot be reached fails them. */
    public static final class Unreachable extends StringSerializer {

        static final String WHY = "the broker could not be reached (the test's serializer says so)";

        @Override
        public byte[] serialize(String topic, String data) {
            if (data != null && data.contains(MARKER)) {
                throw new NetworkException(WHY);
            }
            return super.serialize(topic, data);
        }
    }

    /** Every event logged while a test runs, from any thread. */
    private static final class Recorded extends AppenderBase<ILoggingEvent> {

        final List<ILoggingEvent> list = new CopyOnWriteArrayList<>();

        @Override
        protected void append(ILoggingEvent event) {
            list.add(event);
        }
    }
}
