package dev.conveyor.worker.heartbeat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

import dev.conveyor.common.Json;
import dev.conveyor.common.message.WorkerHeartbeat;
import dev.conveyor.worker.HttpSettings;
import dev.conveyor.worker.SqlSettings;
import dev.conveyor.worker.WorkerProperties;
import dev.conveyor.worker.execute.HandlerRegistry;
import dev.conveyor.worker.execute.JobRunner;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import dev.conveyor.worker.ShutdownWaits;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;

/**
 * While Kafka does not take heartbeats, no more than a few pile up in the producer; and a stop waits for it no
 * longer than its bounds say.
 */
class HeartbeatPublisherTest {

    /** KafkaTemplate closes the producer after each send; the factory's own producers ignore that, so does this. */
    private final MockProducer<String, String> producer = new MockProducer<>(false, null, new StringSerializer(),
            new StringSerializer()) {
        @Override
        public void close(Duration timeout) {
        }
    };
    private final HeartbeatPublisher heartbeats = new HeartbeatPublisher(new KafkaTemplate<>(new ProducerFactory<>() {
        @Override
        public Producer<String, String> createProducer() {
            return producer;
        }
    }), mock(JobRunner.class), mock(HandlerRegistry.class), properties(), Clock.systemUTC());

    private static WorkerProperties properties() {
        return new WorkerProperties("w-1", List.of("default"), 1, 100, 1_048_576, Duration.ofSeconds(10), 10_000, null,
                1, (short) 1, Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ZERO, Map.of(), 5,
                HttpSettings.defaults(), SqlSettings.off());
    }

    @Test
    void atMostAFewBeatsWaitWhileKafkaDoesNotTakeThem() {
        for (var i = 0; i < HeartbeatPublisher.MAX_ON_THE_WAY + 3; i++) {
            heartbeats.send();
        }
        assertThat(producer.history()).as("none delivered yet: the beats past the few on their way are skipped")
                .hasSize(HeartbeatPublisher.MAX_ON_THE_WAY);

        producer.errorNext(new TimeoutException("Kafka is down"));
        heartbeats.send();
        heartbeats.send();
        assertThat(producer.history()).as("one of them failed: one more goes out")
                .hasSize(HeartbeatPublisher.MAX_ON_THE_WAY + 1);

        while (producer.completeNext()) {
            // Kafka is back: every beat on its way arrives
        }
        heartbeats.send();
        heartbeats.send();
        assertThat(producer.history()).hasSize(HeartbeatPublisher.MAX_ON_THE_WAY + 3);
        var beat = Json.read(producer.history().getLast().value(), WorkerHeartbeat.class);
        assertThat(beat.workerId()).isEqualTo("w-1");
        // how often it beats (heartbeat-interval, 1 s here): the api waits three of them before it takes the worker
        // for dead, where that is longer than its worker-lost-after
        assertThat(beat.intervalMillis()).isEqualTo(1_000L);
    }

    @Test
    void aStopWithKafkaAwayWaitsForTheTombstoneNoLongerThanItsShareOfTheStop() throws Exception {
        int port;
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        // the shipped max.block.ms: a send waits that long for the topic's metadata, or for room in the producer
        var factory = new DefaultKafkaProducerFactory<String, String>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + port,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000), new StringSerializer(), new StringSerializer());
        factory.setPhysicalCloseTimeout(1);
        var away = new HeartbeatPublisher(new KafkaTemplate<>(factory), mock(JobRunner.class),
                mock(HandlerRegistry.class), properties(), Clock.systemUTC());
        try {
            away.start();
            var stopping = System.nanoTime();

            away.stop();

            // the beat's thread gets a second, then its interrupt and a second more, the tombstone its 2 s: 4 s at
            // most, with room for a busy machine. The tombstone's send waited max.block.ms (10 s) before its own 2 s
            // began, past what the stop's bounds promise (ShutdownWaits): 13.2 s
            assertThat(Duration.ofNanos(System.nanoTime() - stopping))
                    .isLessThan(Duration.ofSeconds(4).plus(ShutdownWaits.TOMBSTONE));
            assertThat(away.isRunning()).isFalse();
        } finally {
            factory.destroy();
        }
    }
}
