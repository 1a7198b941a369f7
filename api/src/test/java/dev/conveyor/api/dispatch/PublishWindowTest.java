package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.ApiProperties;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.config.YamlPropertiesFactoryBean;
import org.springframework.core.io.ClassPathResource;

/** A publish is over, one way or the other, before its job's dispatch lease ends. */
class PublishWindowTest {

    private static final ApiProperties.Dispatch DEFAULTS = new ApiProperties.Dispatch(Duration.ofMillis(250), 500,
            Duration.ofSeconds(30), Duration.ofSeconds(10), 1000, Duration.ofSeconds(30));

    /** The producer settings the api ships with, under Kafka's names. */
    private static Map<String, Object> shippedProducer() {
        var yaml = new YamlPropertiesFactoryBean();
        yaml.setResources(new ClassPathResource("conveyor-api.yml"));
        var producer = new HashMap<String, Object>();
        var prefix = "spring.kafka.producer.properties.";
        yaml.getObject().forEach((key, value) -> {
            if (key.toString().startsWith(prefix)) {
                producer.put(key.toString().substring(prefix.length()), value);
            }
        });
        return producer;
    }

    @Test
    void theShippedProducerSettingsEndAPublishWithinTheDefaultLease() {
        var window = PublishWindow.of(shippedProducer(), DEFAULTS);

        assertThat(window.sendWithin()).isPositive();
    }

    @Test
    void aLeaseNoLongerThanTheProducersTimeoutsStopsTheStartNamingBothProperties() {
        var producer = Map.<String, Object>of("delivery.timeout.ms", "20000", "max.block.ms", 10000);

        assertThatThrownBy(() -> PublishWindow.of(producer, DEFAULTS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("conveyor.api.dispatch.lease")
                .hasMessageContaining("spring.kafka.producer.properties.delivery.timeout.ms (20000 ms)")
                .hasMessageContaining("spring.kafka.producer.properties.max.block.ms (10000 ms)");
    }

    @Test
    void kafkasDefaultTimeoutsDoNotFitTheDefaultLease() {
        assertThatThrownBy(() -> PublishWindow.of(Map.of(), DEFAULTS))
                .hasMessageContaining("(120000 ms)").hasMessageContaining("(60000 ms)");
    }

    @Test
    void whatTheTimeoutsLeaveOfTheLeaseIsTheTimeASendMayStartIn() {
        var producer = Map.<String, Object>of("delivery.timeout.ms", 15000L, "max.block.ms", "10000");

        assertThat(PublishWindow.of(producer, DEFAULTS).sendWithin()).isEqualTo(Duration.ofSeconds(5));
    }
}
