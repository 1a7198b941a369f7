package dev.conveyor.local.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.test.HttpJson;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A mixed load for the dashboard's screenshots: batches of echo, sleep and fail jobs on the queues {@code default}
 * and {@code reports}, about 160 a second; some fail once and succeed on their retry, a few fail for good.
 */
final class Load {

    private static final int BATCH = 40;
    private static final Duration EVERY = Duration.ofMillis(250);

    private Load() {
    }

    static void run(HttpJson http, Duration duration) {
        var end = System.nanoTime() + duration.toNanos();
        while (System.nanoTime() < end) {
            var started = System.nanoTime();
            var response = http.post("/v1/jobs/batch", "{\"jobs\": [" + String.join(",", batch()) + "]}");
            assertThat(response.status()).as(response.text()).isEqualTo(202);
            var left = EVERY.toNanos() - (System.nanoTime() - started);
            if (left > 0) {
                try {
                    Thread.sleep(Duration.ofNanos(left)); // pacing the load, not waiting for an outcome
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private static ArrayList<String> batch() {
        var random = ThreadLocalRandom.current();
        var jobs = new ArrayList<String>(BATCH);
        for (var i = 0; i < BATCH; i++) {
            var queue = random.nextInt(3) == 0 ? "reports" : "default";
            var dice = random.nextInt(100);
            if (dice < 65) {
                jobs.add("{\"type\": \"echo\", \"queue\": \"" + queue + "\", \"payload\": {\"n\": " + i + "}}");
            } else if (dice < 90) {
                jobs.add("{\"type\": \"sleep\", \"queue\": \"" + queue + "\", \"payload\": {\"ms\": "
                        + random.nextInt(20, 600) + "}}");
            } else if (dice < 98) {
                jobs.add("{\"type\": \"fail\", \"queue\": \"" + queue
                        + "\", \"payload\": {\"message\": \"flaky upstream\", \"untilAttempt\": 2}}");
            } else {
                jobs.add("{\"type\": \"fail\", \"queue\": \"" + queue
                        + "\", \"maxAttempts\": 2, \"payload\": {\"message\": \"invoice 4711 not found\"}}");
            }
        }
        return jobs;
    }
}
