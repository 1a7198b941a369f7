package dev.conveyor.api;

import dev.conveyor.common.kafka.KafkaCheck;
import java.time.Duration;
import org.apache.kafka.clients.admin.Admin;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.stereotype.Component;

/**
 * {@code kafka} in {@code /actuator/health}: up when the cluster answers. Not part of readiness: the api takes and
 * serves jobs without Kafka.
 */
@Component("kafka")
class KafkaHealth extends AbstractHealthIndicator {

    private final Admin admin;

    KafkaHealth(Admin admin) {
        this.admin = admin;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        var probe = KafkaCheck.probe(admin, Duration.ofSeconds(3));
        (probe.answered() ? builder.up() : builder.down()).withDetails(probe.details());
    }
}
