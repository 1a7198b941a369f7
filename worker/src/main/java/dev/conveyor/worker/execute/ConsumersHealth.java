package dev.conveyor.worker.execute;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * {@code consumers} in the worker's {@code /actuator/health}: down while the worker is not taking jobs, or while any
 * of its queues has no consumer running (each that stops is replaced after a backoff). Part of readiness.
 */
@Component("consumers")
class ConsumersHealth implements HealthIndicator {

    private final QueueConsumers consumers;

    ConsumersHealth(QueueConsumers consumers) {
        this.consumers = consumers;
    }

    @Override
    public Health health() {
        if (!consumers.isRunning()) {
            return Health.down().withDetail("reason", "the worker is not taking jobs").build();
        }
        var working = consumers.workingByQueue();
        var builder = working.containsValue(0) ? Health.down() : Health.up();
        return builder.withDetail("working", working).withDetail("restarts", consumers.restarts()).build();
    }
}
