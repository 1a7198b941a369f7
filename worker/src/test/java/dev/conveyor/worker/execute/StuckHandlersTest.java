package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import dev.conveyor.common.message.JobError;
import dev.conveyor.common.message.JobFinished;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A handler that ignores interrupts cannot be stopped, only outlived: its attempt ends with {@code TIMEOUT} at the
 * deadline, and its thread is counted as stuck, keeping its type's permit and its place in {@code max-in-flight}
 * until it really ends.
 */
class StuckHandlersTest {

    /** Waits for {@link #let()}, shrugging off every interrupt. */
    static final class Stubborn implements JobHandler {

        final CountDownLatch go = new CountDownLatch(1);
        final AtomicInteger interrupts = new AtomicInteger();

        @Override
        public String type() {
            return "stubborn";
        }

        @Override
        public JsonNode handle(JobContext context) {
            while (true) {
                try {
                    go.await();
                    return Json.object();
                } catch (InterruptedException ignored) {
                    interrupts.incrementAndGet();
                }
            }
        }

        void let() {
            go.countDown();
        }
    }

    private final Stubborn stubborn = new Stubborn();
    private final RunnerTesting testing = new RunnerTesting(List.of(stubborn), Map.of("stubborn", 1));

    @AfterEach
    void letGo() {
        stubborn.let();
    }

    private double stuck() {
        return testing.meters.get("conveyor.worker.handlers.stuck").gauge().value();
    }

    private boolean permitFree() throws InterruptedException {
        var free = testing.limits.acquire("stubborn", Duration.ZERO, () -> true);
        if (free) {
            testing.limits.release("stubborn");
        }
        return free;
    }

    @Test
    void aHandlerIgnoringInterruptsTimesOutAtItsDeadlineAndIsCountedAsStuckUntilItEnds() throws Exception {
        var job = RunnerTesting.dispatch("stubborn", Json.object(), 1);
        assertThat(testing.take(job)).isEqualTo(AcknowledgeType.ACCEPT);

        var finished = await().atMost(Duration.ofSeconds(5)).until(() -> testing.events.finished(job.jobId()),
                f -> f != null);
        assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.FAILED);
        assertThat(finished.error().code()).isEqualTo(JobError.TIMEOUT);
        await().atMost(Duration.ofSeconds(5)).until(() -> stuck() == 1);
        assertThat(stubborn.interrupts.get()).isPositive();
        // the attempt leaves in-flight once its outcome is handed over, which may come a moment after the count
        await().atMost(Duration.ofSeconds(5)).until(() -> testing.runner.inFlight() == 0);
        assertThat(testing.runner.occupied()).isEqualTo(1);
        assertThat(permitFree()).as("the stuck thread keeps its type's permit").isFalse();

        stubborn.let();

        await().atMost(Duration.ofSeconds(5)).until(() -> stuck() == 0);
        assertThat(testing.runner.occupied()).isZero();
        assertThat(permitFree()).isTrue();
    }

    @Test
    void aHandlerThatEndsWhenInterruptedIsNotStuck() throws Exception {
        var never = new java.util.concurrent.CountDownLatch(1);
        var sleeper = new JobHandler() {
            @Override
            public String type() {
                return "stubborn";
            }

            /** Blocks until interrupted, as a handler waiting on I/O would. */
            @Override
            public JsonNode handle(JobContext context) throws InterruptedException {
                never.await();
                return Json.object();
            }
        };
        var polite = new RunnerTesting(List.of(sleeper), Map.of("stubborn", 1));
        var job = RunnerTesting.dispatch("stubborn", Json.object(), 1);
        polite.take(job);

        await().atMost(Duration.ofSeconds(5)).until(() -> polite.events.finished(job.jobId()) != null);
        await().atMost(Duration.ofSeconds(5)).until(() -> polite.runner.occupied() == 0);
        assertThat(polite.meters.get("conveyor.worker.handlers.stuck").gauge().value()).isZero();
        assertThat(polite.limits.acquire("stubborn", Duration.ZERO, () -> true)).isTrue();
    }
}
