package dev.conveyor.api;

import dev.conveyor.common.kafka.KafkaCheck;
import java.time.Duration;
import org.apache.kafka.clients.admin.Admin;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.stereotype.Component;

/** {@code kafka} in {@code /actuator/health}: up when the cluster answers. Part of readiness. */
@Component("kafka")
class KafkaHealth extends AbstractHealthIndicator {

    private final Admin admin;

    KafkaHealth(Admin admin) {
        this.admin = admin;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        try {
            var cluster = KafkaCheck.describe(admin, Duration.ofSeconds(3));
            builder.up().withDetail("clusterId", cluster.clusterId()).withDetail("brokers", cluster.brokers());
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            // Not thrown, nor given to down(e): Spring logs such an exception with its stack trace at every call, and
            // the probes are called every few seconds (the api's by anyone: they need no key) for as long as Kafka is
            // away. The outage is logged where it stops work.
            builder.down().withDetail("error", e.toString());
        }
    }
}
