package dev.conveyor.common.handler;

import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import tools.jackson.databind.JsonNode;

/**
 * What a handler knows about the attempt it runs. Handlers should be idempotent: the same job may run again
 * after a crash, and {@code jobId} with {@code attempt} tell the runs apart.
 */
public record JobContext(
        UUID jobId,
        String type,
        String queue,
        int attempt,
        int maxAttempts,
        JsonNode payload,
        Instant deadline,
        ProgressReporter progressReporter) {

    /** A context whose progress reports go nowhere, for running a handler outside a worker (in a test, say). */
    public JobContext(UUID jobId, String type, String queue, int attempt, int maxAttempts, JsonNode payload,
            Instant deadline) {
        this(jobId, type, queue, attempt, maxAttempts, payload, deadline, ProgressReporter.NONE);
    }

    /**
     * Tells the api how far the attempt got: {@code fraction} from 0 to 1 and a short message; it shows in the
     * Job's {@code progress}. Cheap to call often: reports are sent at most a few times a second, the last one wins.
     */
    public void progress(double fraction, String message) {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new IllegalArgumentException("fraction must be between 0 and 1, not " + fraction);
        }
        progressReporter.report(fraction, message);
    }

    /** Time left before the attempt is interrupted with {@code TIMEOUT}; never negative. */
    public Duration remaining() {
        var left = Duration.between(Instant.now(), deadline);
        return left.isNegative() ? Duration.ZERO : left;
    }
}
