package dev.conveyor.api.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.common.test.DownKafka;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/**
 * A call to Kafka that the lag gauges stop waiting for is dropped then: with Kafka's default, the api's admin client
 * held it for a minute after the 10 s the gauges wait, and a refresh every 5 s while Kafka was away added more.
 */
class KafkaLagsTimeoutTest {

    @Test
    void noCallOutlivesItsWait() {
        var admin = DownKafka.admin();
        var properties = new Binder(new MapConfigurationPropertySource(Map.of("conveyor.api.queues", "default,emails")))
                .bindOrCreate("conveyor.api", Bindable.of(ApiProperties.class));
        var meters = new SimpleMeterRegistry();
        var lags = new KafkaLags(admin, properties, meters, Duration.ofSeconds(1));

        lags.refresh();

        assertThat(meters.get("conveyor.events.lag").gauge().value()).isZero();
        assertThat(DownKafka.closing(admin)).isLessThan(Duration.ofSeconds(5));
    }
}
