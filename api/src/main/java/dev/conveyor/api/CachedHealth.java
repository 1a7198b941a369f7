package dev.conveyor.api;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * A health indicator's last answer, asked again at most once per {@link #FRESH}, by one caller at a time and never
 * on a caller's thread once it has answered. The readiness probe is anyone's to call: each call borrowed a connection
 * of the api's pool (waiting up to its 5 s when requests held them all, where Kubernetes waits 1 s, so a busy api
 * left its Service) and made an admin call to Kafka, as many as were sent.
 */
final class CachedHealth implements HealthIndicator {

    /** How old an answer may be and still be given. */
    static final Duration FRESH = Duration.ofSeconds(1);
    /** An answer this old means the checks no longer end: down. */
    static final Duration STALE = Duration.ofSeconds(15);

    private final HealthIndicator checked;
    private final LongSupplier nanoTime;
    private final AtomicReference<CompletableFuture<Answer>> asking = new AtomicReference<>();
    private volatile Answer last;

    private record Answer(Health health, long at) {
    }

    CachedHealth(HealthIndicator checked) {
        this(checked, System::nanoTime);
    }

    /** With {@code nanoTime} as the clock ({@link System#nanoTime()} outside tests). */
    CachedHealth(HealthIndicator checked, LongSupplier nanoTime) {
        this.checked = checked;
        this.nanoTime = nanoTime;
    }

    @Override
    public Health health() {
        var answer = last;
        var now = nanoTime.getAsLong();
        if (answer == null) {
            // the first call waits for the first check: there is nothing to answer before it
            return ask().join().health();
        }
        var age = now - answer.at();
        if (age >= FRESH.toNanos()) {
            ask();
        }
        if (age > STALE.toNanos()) {
            return Health.down().withDetail("error", "the check has not ended for " + Duration.ofNanos(age).toSeconds()
                    + " s").build();
        }
        return answer.health();
    }

    /** The check under way, or a new one on a thread of its own. */
    private CompletableFuture<Answer> ask() {
        var mine = new CompletableFuture<Answer>();
        var current = asking.compareAndExchange(null, mine);
        if (current != null) {
            return current;
        }
        Thread.ofVirtual().name("health-check").start(() -> {
            Health health;
            try {
                health = checked.health();
            } catch (RuntimeException e) {
                health = Health.down().withDetail("error", e.toString()).build();
            }
            var answer = new Answer(health, nanoTime.getAsLong());
            last = answer;
            asking.set(null);
            mine.complete(answer);
        });
        return mine;
    }
}
