package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.metrics.JobMetrics;
import dev.conveyor.api.tracing.JobTracing;
import dev.conveyor.common.Json;
import dev.conveyor.common.kafka.QueueTopics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;

/**
 * Publications to a queue whose topic the api has not made sure of yet (its first since the api started) while Kafka
 * cannot be reached: every job fails at once after one attempt to reach Kafka and is left to the poller. Each job
 * made an attempt of its own, one after another under the topics' lock (30 s each in production), so a publication
 * of 500 jobs took hours, and every submission and claim meanwhile added one more, holding its jobs in memory, for as
 * long as Kafka was away.
 */
class UnreachableTopicsTest {

    private static final int PUBLICATIONS = 5;
    private static final int JOBS_EACH = 10;

    // no broker listens there; an attempt to reach it gives up after half a second (the calls of QueueTopics too)
    private final Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:1",
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 400, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 500));
    private final TenantWindows windows = new TenantWindows(1000, Duration.ofHours(1).toNanos());

    @AfterEach
    void close() {
        admin.close(Duration.ofSeconds(1));
    }

    @Test
    void jobsOfAQueueKafkaCannotBeAskedAboutFailTogether() {
        var dispatcher = dispatcher(new QueueTopics(admin, 1, (short) 1, Duration.ofMillis(500)));
        var publications = new ArrayList<List<Dispatcher.Item>>();
        for (var p = 0; p < PUBLICATIONS; p++) {
            var items = new ArrayList<Dispatcher.Item>();
            for (var j = 0; j < JOBS_EACH; j++) {
                var id = UUID.randomUUID();
                windows.take(id, "q", "acme");
                items.add(new Dispatcher.Item(id, "acme", "echo", "q", 0, 3, 60, Json.object(), 0));
            }
            publications.add(items);
        }
        assertThat(windows.held()).isEqualTo(PUBLICATIONS * JOBS_EACH);

        publications.forEach(dispatcher::publish);

        // one attempt to reach Kafka, and the one a publication waiting behind it may make: not one per job
        await().atMost(Duration.ofSeconds(5)).until(() -> windows.held() == 0);
    }

    private Dispatcher dispatcher(QueueTopics queues) {
        @SuppressWarnings("unchecked")
        KafkaTemplate<String, String> kafka = mock(KafkaTemplate.class);
        @SuppressWarnings("unchecked")
        ProducerFactory<String, String> producers = mock(ProducerFactory.class);
        when(kafka.getProducerFactory()).thenReturn(producers);
        when(producers.getConfigurationProperties()).thenReturn(Map.of("delivery.timeout.ms", 15000,
                "max.block.ms", 10000));
        var properties = new Binder(new MapConfigurationPropertySource(Map.of("conveyor.api.queues", "q")))
                .bindOrCreate("conveyor.api", Bindable.of(ApiProperties.class));
        var tracing = mock(JobTracing.class);
        when(tracing.jobRecord(any(), any(), any(), any())).thenThrow(new AssertionError("never sent"));
        return new Dispatcher(kafka, queues, new DispatchMarks(marks -> { }), mock(LeaseReleases.class),
                mock(RefusedRecords.class), Clock.systemUTC(), properties, new JobMetrics(new SimpleMeterRegistry()),
                tracing, windows);
    }
}
