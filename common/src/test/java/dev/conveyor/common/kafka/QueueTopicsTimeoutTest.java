package dev.conveyor.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.common.test.DownKafka;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A call to Kafka that {@link QueueTopics} stops waiting for is dropped then: with Kafka's default, the admin client
 * held it for a minute, and each attempt to make a queue ready while Kafka was away added one.
 */
class QueueTopicsTimeoutTest {

    @Test
    void noCallOutlivesItsWait() {
        var admin = DownKafka.admin();
        var topics = new QueueTopics(admin, 1, (short) 1, Duration.ofSeconds(1));

        assertThatThrownBy(() -> topics.ensure("default")).isInstanceOf(QueueTopics.KafkaAdminException.class);

        assertThat(DownKafka.closing(admin)).isLessThan(Duration.ofSeconds(5));
    }
}
