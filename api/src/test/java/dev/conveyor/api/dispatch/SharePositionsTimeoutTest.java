package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.common.test.DownKafka;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;

/**
 * A call to Kafka that the reconciler stops waiting for is dropped then: with Kafka's default, the api's admin client
 * held it for a minute after the 10 s the reconciler waits, and each pass while Kafka was away added more.
 */
class SharePositionsTimeoutTest {

    @Test
    void noCallOutlivesItsWait() {
        var admin = DownKafka.admin();
        var positions = new SharePositions(admin, new KafkaListenerEndpointRegistry(), Duration.ofSeconds(1));

        assertThat(positions.settledOffsets(List.of("default"))).isEmpty();
        assertThatThrownBy(positions::eventsEnd).isInstanceOf(SharePositions.KafkaCallException.class);
        assertThatThrownBy(() -> positions.applied(Map.of(new TopicPartition("conveyor.events", 0), 1L)))
                .isInstanceOf(SharePositions.KafkaCallException.class);

        assertThat(DownKafka.closing(admin)).isLessThan(Duration.ofSeconds(5));
    }
}
