package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.conveyor.common.Json;
import dev.conveyor.common.message.JobFinished;
import dev.conveyor.common.message.JobProgress;
import dev.conveyor.common.message.JobStarted;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.common.KafkaException;
import org.junit.jupiter.api.Test;

/**
 * A start or a progress report that Kafka will not take (its send throws once Kafka has been unreachable for
 * {@code max.block.ms}) costs the job nothing more: a record whose start could not be sent is released with nothing
 * of it left on the worker, and a progress report that could not be sent is dropped while the handler runs on.
 */
class UnsentEventsTest {

    private static boolean permitFree(RunnerTesting testing) throws InterruptedException {
        var free = testing.limits.acquire("t", Duration.ZERO, () -> true);
        if (free) {
            testing.limits.release("t");
        }
        return free;
    }

    @Test
    void aRecordWhoseStartCannotBeSentKeepsNoPermitNorPlaceAndRunsWhenDeliveredAgain() throws Exception {
        var testing = new RunnerTesting(List.of(RunnerTesting.handler(context -> Json.object())), Map.of("t", 1),
                Duration.ZERO);
        var record = RunnerTesting.record(RunnerTesting.dispatch("t", Json.object(), 30));
        testing.events.refuse = event -> event instanceof JobStarted;

        // the consumer releases a record whose taking threw
        assertThatThrownBy(() -> testing.take(record)).isInstanceOf(KafkaException.class);
        assertThat(testing.runner.inFlight()).isZero();
        assertThat(permitFree(testing)).as("the type's one permit is free again").isTrue();

        testing.events.refuse = event -> false;
        assertThat(testing.take(record)).isEqualTo(AcknowledgeType.ACCEPT);
        var finished = await().atMost(Duration.ofSeconds(10))
                .until(() -> testing.events.finished(UUID.fromString(record.key())), f -> f != null);
        assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.SUCCEEDED);
    }

    @Test
    void progressThatCannotBeSentIsDroppedAndTheHandlerRunsOn() throws Exception {
        var testing = new RunnerTesting(List.of(RunnerTesting.handler(context -> {
            context.progress(0.5, "half");
            context.progress(1, "done");
            return Json.object().put("ran", true);
        })), Map.of(), Duration.ofMillis(500));
        var job = RunnerTesting.dispatch("t", Json.object(), 30);
        // the start too: progress sends it first, as the api applies progress to a running job
        testing.events.refuse = event -> event instanceof JobStarted || event instanceof JobProgress;

        testing.take(job);

        var finished = await().atMost(Duration.ofSeconds(10)).until(() -> testing.events.finished(job.jobId()),
                f -> f != null);
        assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.SUCCEEDED);
        assertThat(finished.result().get("ran").asBoolean()).isTrue();
    }
}
