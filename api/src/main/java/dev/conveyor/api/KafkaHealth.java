package dev.conveyor.api;

import dev.conveyor.common.kafka.KafkaCheck;
import java.time.Duration;
import org.apache.kafka.clients.admin.Admin;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * {@code kafka} in {@code /actuator/health}: up when the cluster answers, asked at most once a second, by one caller
 * at a time ({@link CachedHealth}). Not part of readiness: the api takes and serves jobs without Kafka.
 */
@Component("kafka")
class KafkaHealth implements HealthIndicator {

    private final CachedHealth cached;

    KafkaHealth(Admin admin) {
        this.cached = new CachedHealth(() -> {
            var probe = KafkaCheck.probe(admin, Duration.ofSeconds(3));
            return (probe.answered() ? Health.up() : Health.down()).withDetails(probe.details()).build();
        });
    }

    @Override
    public Health health() {
        return cached.health();
    }
}
