package dev.conveyor.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

/** The readiness probe's checks: made at most once a second, by one caller at a time, never waited for twice. */
class CachedHealthTest {

    private final AtomicLong nanos = new AtomicLong();
    private final AtomicInteger checks = new AtomicInteger();
    private final CountDownLatch hang = new CountDownLatch(1);
    private volatile boolean hanging;
    private final CachedHealth health = new CachedHealth(() -> {
        checks.incrementAndGet();
        if (hanging) {
            try {
                hang.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return Health.up().build();
    }, nanos::get);

    private void advance(Duration duration) {
        nanos.addAndGet(duration.toNanos());
    }

    @Test
    void callersWithinASecondShareOneCheck() {
        assertThat(health.health().getStatus()).isEqualTo(Status.UP);
        for (var i = 0; i < 1_000; i++) {
            assertThat(health.health().getStatus()).isEqualTo(Status.UP);
        }
        assertThat(checks).hasValue(1);

        advance(CachedHealth.FRESH);
        for (var i = 0; i < 1_000; i++) {
            health.health();
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> checks.get() == 2);
    }

    @Test
    void aCheckThatHangsHoldsNoCallerAndIsDownOnceItsAnswerIsStale() {
        health.health();
        hanging = true;
        advance(CachedHealth.FRESH);
        try {
            for (var i = 0; i < 100; i++) {
                assertThat(health.health().getStatus()).isEqualTo(Status.UP);
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> checks.get() == 2);

            advance(CachedHealth.STALE);
            assertThat(health.health().getStatus()).isEqualTo(Status.DOWN);
            assertThat(checks).hasValue(2);
        } finally {
            hang.countDown();
        }
    }
}
