package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import dev.conveyor.common.message.JobDispatch;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;

/**
 * A job on its first attempt, whose record is on its first delivery, starts as its record is accepted; any other
 * (a later attempt, a record delivered again) may be what stops the worker running it, and starts only once Kafka
 * has its record's acceptance.
 */
class SuspectJobsTest {

    private final RunnerTesting testing = new RunnerTesting(new JobHandler() {
        @Override
        public String type() {
            return "noop";
        }

        @Override
        public JsonNode handle(JobContext context) {
            return Json.object();
        }
    });

    private static ConsumerRecord<String, String> delivery(JobDispatch job, Short count) {
        return new ConsumerRecord<>("conveyor.jobs.default", 0, 0, 0L, TimestampType.CREATE_TIME, 36, 100,
                job.jobId().toString(), Json.write(job), new RecordHeaders(), Optional.empty(),
                Optional.ofNullable(count));
    }

    @ParameterizedTest(name = "attempt {0}, delivery {1}: after the commit = {2}")
    @CsvSource({
            "1, 1, false",
            "1, , false", // a record that does not say (never from a share consumer): taken as a first delivery
            "1, 2, true",
            "1, 5, true",
            "2, 1, true",
            "3, 2, true"})
    void onlyAFirstAttemptOnItsFirstDeliveryStartsBeforeTheCommit(int attempt, Short delivery, boolean afterCommit)
            throws InterruptedException {
        var job = new JobDispatch(JobDispatch.VERSION, UUID.randomUUID(), "noop", "default", attempt, 3, 30,
                Json.object(), Instant.now(), 0);

        var taken = testing.runner.take(delivery(job, delivery));

        assertThat(taken.acknowledge()).isEqualTo(AcknowledgeType.ACCEPT);
        assertThat(taken.afterCommit()).isEqualTo(afterCommit);
        taken.rest().run();
        assertThat(await().atMost(Duration.ofSeconds(10)).until(() -> testing.events.finished(job.jobId()),
                finished -> finished != null).attempt()).isEqualTo(attempt);
    }
}
