package dev.conveyor.api.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The dashboard's settings are checked at start-up, with a message that says what to change. */
class DashboardPropertiesTest {

    @Test
    void theRefreshIsFromHalfASecondToAnHour() {
        assertThat(refreshing(Duration.ofMillis(500)).refresh()).isEqualTo(Duration.ofMillis(500));
        assertThat(refreshing(Duration.ofHours(1)).refresh()).isEqualTo(Duration.ofHours(1));
        for (var refresh : new Duration[] {Duration.ofMillis(499), Duration.ofMillis(2), Duration.ZERO,
                Duration.ofHours(1).plusMillis(1)}) {
            assertThatThrownBy(() -> refreshing(refresh)).as(refresh.toString())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("conveyor.api.dashboard.refresh must be from 500ms to 1h");
        }
    }

    private static DashboardProperties refreshing(Duration refresh) {
        return new DashboardProperties(Duration.ofSeconds(5), Duration.ofMinutes(10), Duration.ofSeconds(2),
                Duration.ofSeconds(1), refresh);
    }
}
