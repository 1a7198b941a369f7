package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.test.DownKafka;
import dev.conveyor.common.test.TestKafka;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;

/** What a worker reads from Kafka at start about the deliveries it allows a record, and how long it may take. */
class DeliveryLimitReaderTest {

    @Test
    void readsTheBrokersLimitForGroupsWithoutOneOfTheirOwn() {
        // Kafka 4.2 knows no group config share.delivery.count.limit: the broker's group.share.delivery.count.limit
        // holds for every share group, whether it exists yet or not
        var fresh = "conveyor.delivery-" + UUID.randomUUID();
        try (var admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                TestKafka.bootstrapServers()))) {
            var read = new DeliveryLimitReader(admin, Duration.ofSeconds(10)).read(List.of(fresh, "conveyor.default"));

            assertThat(read.byGroup()).containsExactlyInAnyOrderEntriesOf(Map.of(fresh, 5, "conveyor.default", 5));
            assertThat(read.problem()).isNull();
        }
    }

    @Test
    void answersWhatWentWrongRatherThanThrow() {
        // an admin client that throws whatever it is asked: the worker must start all the same
        var throwing = (Admin) Proxy.newProxyInstance(Admin.class.getClassLoader(), new Class<?>[] {Admin.class},
                (proxy, method, args) -> {
                    throw new IllegalStateException("refused");
                });

        var read = new DeliveryLimitReader(throwing, Duration.ofSeconds(1)).read(List.of("conveyor.default"));

        assertThat(read.byGroup()).isEmpty();
        assertThat(read.problem()).contains("IllegalStateException: refused");
    }

    @Test
    void givesUpWithinItsTimeWhenKafkaDoesNotAnswer() {
        var admin = DownKafka.admin();
        var start = System.nanoTime();

        var read = new DeliveryLimitReader(admin, Duration.ofMillis(500)).read(List.of("conveyor.default"));

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        assertThat(read.byGroup()).isEmpty();
        assertThat(read.problem()).contains("group conveyor.default").contains("the brokers");
        // and leaves no call behind it
        assertThat(DownKafka.closing(admin)).isLessThan(Duration.ofSeconds(3));
    }
}
