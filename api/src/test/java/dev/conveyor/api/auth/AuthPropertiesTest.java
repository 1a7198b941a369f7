package dev.conveyor.api.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.common.JobLimits;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A configured key's tenant is named as a queue is, by {@link JobLimits}' one pattern. */
class AuthPropertiesTest {

    @Test
    void aTenantIsNamedByJobLimitsQueuePattern() {
        assertThat(AuthProperties.TENANT).isSameAs(JobLimits.QUEUE);
        assertThat(properties("t".repeat(64)).keys()).hasSize(1);
        assertThatThrownBy(() -> properties("t".repeat(65))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("conveyor.api.auth.keys[0].tenant must match " + JobLimits.QUEUE_PATTERN);
    }

    private static AuthProperties properties(String tenant) {
        return new AuthProperties(List.of(new AuthProperties.ConfiguredKey("k1", tenant, List.of("jobs:read"),
                KeyHash.of("secret"))), Duration.ofSeconds(1), List.of());
    }
}
