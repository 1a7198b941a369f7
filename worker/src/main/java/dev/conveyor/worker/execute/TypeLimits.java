package dev.conveyor.worker.execute;

import dev.conveyor.worker.WorkerProperties;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.springframework.stereotype.Component;

/**
 * Caps how many jobs of a type run at once on this worker, so that slow jobs of one type cannot take what another
 * type needs (a connection pool, say). A job over the cap waits on its virtual thread, holding no platform thread.
 */
@Component
class TypeLimits {

    private final Map<String, Semaphore> permits;

    TypeLimits(WorkerProperties properties) {
        permits = properties.typeLimits().entrySet().stream()
                .collect(Collectors.toUnmodifiableMap(Map.Entry::getKey, e -> new Semaphore(e.getValue(), true)));
    }

    /**
     * Waits up to {@code patience} for a permit; false when none came or {@code giveUp} said to stop waiting.
     * Unlimited types never wait.
     */
    boolean acquire(String type, Duration patience, BooleanSupplier giveUp) throws InterruptedException {
        var semaphore = permits.get(type);
        if (semaphore == null) {
            return true;
        }
        var deadline = System.nanoTime() + patience.toNanos();
        while (!semaphore.tryAcquire(100, TimeUnit.MILLISECONDS)) {
            if (giveUp.getAsBoolean() || System.nanoTime() > deadline) {
                return false;
            }
        }
        return true;
    }

    void release(String type) {
        var semaphore = permits.get(type);
        if (semaphore != null) {
            semaphore.release();
        }
    }
}
