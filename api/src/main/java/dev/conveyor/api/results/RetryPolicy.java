package dev.conveyor.api.results;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.common.JobStatus;
import dev.conveyor.common.message.JobError;
import dev.conveyor.common.message.JobFinished;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import org.springframework.stereotype.Component;

/** Decides, in one place, what an ended attempt means for its job: done, failed, or tried again at some time. */
@Component
class RetryPolicy {

    /**
     * Attempts lost with their worker (a crash, or a job handed back at shutdown) that a job may survive beyond its
     * budget; past them it fails, so a job that keeps killing its workers stops.
     */
    static final int LOST_ATTEMPTS_ALLOWED = 2;

    private final ApiProperties.Retry settings;

    RetryPolicy(ApiProperties properties) {
        this.settings = properties.retry();
    }

    /** The job's next state; {@code retryAt} is set only for SCHEDULED. */
    record Decision(JobStatus status, Instant retryAt) {
    }

    Decision decide(JobFinished finished, Instant now) {
        return switch (finished.outcome()) {
            case SUCCEEDED -> new Decision(JobStatus.SUCCEEDED, null);
            case CANCELLED -> new Decision(JobStatus.CANCELLED, null);
            case FAILED -> {
                var retryable = finished.error() != null && finished.error().retryable();
                var lost = finished.error() != null && JobError.WORKER_LOST.equals(finished.error().code());
                var budget = finished.maxAttempts() + (lost ? LOST_ATTEMPTS_ALLOWED : 0);
                if (!retryable || finished.attempt() >= budget) {
                    yield new Decision(JobStatus.FAILED, null);
                }
                if (lost) {
                    // nothing failed in the job itself: run it again at once
                    yield new Decision(JobStatus.SCHEDULED, now);
                }
                var delay = backoff(finished.attempt());
                if (finished.retryAfterMs() != null && finished.retryAfterMs() > delay.toMillis()) {
                    delay = Duration.ofMillis(finished.retryAfterMs());
                }
                yield new Decision(JobStatus.SCHEDULED, now.plus(delay));
            }
        };
    }

    /** {@code min(max, base * 2^(attempt-1))}, spread by ±jitter so that failures together do not retry together. */
    Duration backoff(int attempt) {
        var exponent = Math.min(Math.max(attempt - 1, 0), 30);
        var nominal = Math.min(settings.maxDelay().toMillis(), settings.baseDelay().toMillis() * (1L << exponent));
        var spread = 1 + settings.jitter() * (2 * ThreadLocalRandom.current().nextDouble() - 1);
        return Duration.ofMillis(Math.round(nominal * spread));
    }
}
