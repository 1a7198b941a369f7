package dev.conveyor.api.auth;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

/** An actuator moved where the key check does not look stops an api with keys at start. */
class ActuatorPlacementTest {

    @Test
    void anActuatorOnAPortOfItsOwnStopsAnApiWithKeys() {
        var environment = new MockEnvironment().withProperty("server.port", "8080")
                .withProperty("management.server.port", "9090");
        assertThatThrownBy(() -> ActuatorPlacement.check(environment, true))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("management.server.port=9090")
                .hasMessageContaining("remove it");
        assertThatCode(() -> ActuatorPlacement.check(environment, false)).doesNotThrowAnyException();
    }

    @Test
    void anActuatorUnderAnotherPathStopsAnApiWithKeys() {
        var environment = new MockEnvironment().withProperty("management.endpoints.web.base-path", "/manage");
        assertThatThrownBy(() -> ActuatorPlacement.check(environment, true))
                .hasMessageContaining("management.endpoints.web.base-path=/manage");
        assertThatCode(() -> ActuatorPlacement.check(environment, false)).doesNotThrowAnyException();
    }

    @Test
    void theDefaultPlaceOrTheApisOwnPortIsAccepted() {
        assertThatCode(() -> ActuatorPlacement.check(new MockEnvironment(), true)).doesNotThrowAnyException();
        var same = new MockEnvironment().withProperty("server.port", "8080")
                .withProperty("management.server.port", "8080")
                .withProperty("management.endpoints.web.base-path", "/actuator");
        assertThatCode(() -> ActuatorPlacement.check(same, true)).doesNotThrowAnyException();
    }
}
