package dev.conveyor.api.metrics;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.ApiTests;
import org.junit.jupiter.api.Test;

/**
 * {@code conveyor.metrics.refresh-interval} sets how often each api instance runs the gauges' aggregate queries and
 * Kafka admin calls. A number alone is milliseconds: {@code 5}, meant as seconds, ran them 200 times a second on every
 * instance, for as long as it ran; it stops the start instead, naming the property, as the api's other settings do.
 */
class RefreshIntervalTest {

    @Test
    void aRefreshIntervalOfMillisecondsStopsTheStartNamingTheProperty() {
        assertThatThrownBy(() -> ApiTests.start("--conveyor.metrics.refresh-interval=5").close())
                .rootCause().isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("conveyor.metrics.refresh-interval").hasMessageContaining("100ms");
    }
}
