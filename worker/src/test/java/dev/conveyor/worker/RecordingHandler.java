package dev.conveyor.worker;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import tools.jackson.databind.JsonNode;

/**
 * A handler for tests: counts its invocations per job and how many run at once, reports progress, and holds each
 * job for {@code hold} or until {@link #release()}.
 */
final class RecordingHandler implements JobHandler {

    private final String type;
    private final Duration hold;
    private final Map<UUID, AtomicInteger> invocations = new ConcurrentHashMap<>();
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger mostAtOnce = new AtomicInteger();
    private final CountDownLatch released = new CountDownLatch(1);

    RecordingHandler(String type, Duration hold) {
        this.type = type;
        this.hold = hold;
    }

    @Override
    public String type() {
        return type;
    }

    @Override
    public JsonNode handle(JobContext context) throws InterruptedException {
        invocations.computeIfAbsent(context.jobId(), id -> new AtomicInteger()).incrementAndGet();
        mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
        try {
            context.progress(0.5, "half way");
            released.await(hold.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            return Json.object().put("attempt", context.attempt());
        } finally {
            running.decrementAndGet();
        }
    }

    int invocations(UUID jobId) {
        var count = invocations.get(jobId);
        return count == null ? 0 : count.get();
    }

    int mostAtOnce() {
        return mostAtOnce.get();
    }

    void release() {
        released.countDown();
    }
}
