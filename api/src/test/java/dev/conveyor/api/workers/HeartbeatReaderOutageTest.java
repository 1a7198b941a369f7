package dev.conveyor.api.workers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.common.test.CapturedLines;
import dev.conveyor.common.test.TestClock;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;

/**
 * With Kafka down, the reader of {@code conveyor.workers} waits for the topic's partitions on a thread of its own,
 * which nothing else waits for, with Kafka's minute; a stop wakes it at once. (It was so already: a check of the
 * wait a review took for one that blocks a caller.)
 */
class HeartbeatReaderOutageTest {

    @Test
    void aStopWakesTheReaderWaitingForADownKafka() throws IOException {
        int port;
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        var kafka = new KafkaProperties();
        kafka.setBootstrapServers(List.of("127.0.0.1:" + port));
        var properties = new Binder(new MapConfigurationPropertySource(Map.of("conveyor.api.worker-ttl", "30s")))
                .bindOrCreate("conveyor.api", Bindable.of(ApiProperties.class));
        var clock = new TestClock();
        var reader = new HeartbeatReader(new WorkerTable(clock, properties), clock, kafka);
        try (var lines = CapturedLines.start(HeartbeatReader.class)) {
            var others = readers(); // other tests' apis in this JVM
            reader.start();
            var thread = await().atMost(Duration.ofSeconds(5)).until(
                    () -> readers().stream().filter(t -> !others.contains(t)).findFirst().orElse(null),
                    t -> t != null);
            await().atMost(Duration.ofSeconds(10)).until(() -> waitingForPartitions(thread));

            var start = System.nanoTime();
            reader.stop();

            // past 2 s, the stop would have interrupted it
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(1_500));
            assertThat(thread.isAlive()).isFalse();
            assertThat(lines.lines()).as("a stop is no failure").isEmpty();
        }
    }

    private static List<Thread> readers() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("workers-reader"))
                .toList();
    }

    private static boolean waitingForPartitions(Thread thread) {
        return thread != null && List.of(thread.getStackTrace()).stream()
                .anyMatch(frame -> frame.getMethodName().equals("partitionsFor"));
    }
}
