package dev.conveyor.api.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** A submission rate that is not a number stops the api at start instead of switching the limit off unnoticed. */
class LimitsPropertiesTest {

    private static LimitsProperties bind(String submitRate) {
        return bind("submit-rate", submitRate);
    }

    private static LimitsProperties bind(String property, String value) {
        return new Binder(new MapConfigurationPropertySource(Map.of("conveyor.api.limits." + property, value)))
                .bindOrCreate("conveyor.api.limits", Bindable.of(LimitsProperties.class));
    }

    @Test
    void aSubmitRateThatIsNotAFiniteNumberIsRefused() {
        for (var rate : new String[] {"NaN", "Infinity", "-Infinity"}) {
            assertThatThrownBy(() -> bind(rate)).as(rate).isInstanceOf(BindException.class).rootCause()
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("conveyor.api.limits.submit-rate");
        }
        assertThat(bind("2.5").submitRate()).isEqualTo(2.5);
        assertThat(bind("0").submitRate()).isZero();
    }

    @Test
    void aTenantsBodyShareIsAPercentage() {
        for (var share : new String[] {"101", "-1"}) {
            assertThatThrownBy(() -> bind("tenant-body-share", share)).as(share).isInstanceOf(BindException.class)
                    .rootCause().isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("conveyor.api.limits");
        }
        assertThat(bind("tenant-body-share", "100").tenantBodyShare()).isEqualTo(100);
        assertThat(bind("submit-rate", "1").tenantBodyShare()).isEqualTo(50);
    }

    @Test
    void longPollsMustLeaveTheWebServerConnectionsForOtherRequests() {
        assertThat(bind("submit-rate", "1").longPolls()).isEqualTo(6000);
        bind("submit-rate", "1").requireRoomBeside(LimitsProperties.DEFAULT_MAX_CONNECTIONS);
        assertThatThrownBy(() -> bind("long-polls", "8192").requireRoomBeside(8192))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("conveyor.api.limits.long-polls (8192)")
                .hasMessageContaining("server.tomcat.max-connections (8192)");
        bind("long-polls", "8191").requireRoomBeside(8192);
        // turned off, or no bound on connections: nothing to check
        bind("long-polls", "0").requireRoomBeside(8192);
        bind("long-polls", "100000").requireRoomBeside(-1);
        assertThatThrownBy(() -> bind("long-polls", "-1")).isInstanceOf(BindException.class);
    }
}
