package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.Json;
import dev.conveyor.common.message.JobDispatch;
import dev.conveyor.common.test.HttpJson;
import dev.conveyor.common.Topics;
import dev.conveyor.common.message.JobEvent;
import dev.conveyor.common.message.JobStarted;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A job whose record Kafka settles while no event of its attempt reaches the api (accepted by a worker that then
 * stopped, rejected, or released up to the delivery limit) loses that attempt and is published again, until
 * max-lost-attempts fails it; a job whose record a worker holds, or took and reported, is left alone.
 */
@ApiTest
@Import(OwnEventsGroup.class)
class LostRecordsTest {

    private static final Logger log = LoggerFactory.getLogger(LostRecordsTest.class);
    private static final Duration REDISPATCHED_WITHIN = Duration.ofSeconds(60);
    private static final Duration RECONCILE_INTERVAL = Duration.ofSeconds(1);

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
        registry.add("conveyor.api.dispatch.reconcile-interval", RECONCILE_INTERVAL::toString);
        // the second loss waits base-delay (with jitter) before the job is due again
        registry.add("conveyor.api.retry.base-delay", () -> "100ms");
    }

    @LocalServerPort
    int port;
    @Autowired
    JdbcClient jdbc;
    @Autowired
    RecordReconciler reconciler;

    @Autowired
    KafkaListenerEndpointRegistry listeners;
    @Autowired
    KafkaTemplate<String, String> kafka;

    HttpJson http;

    @BeforeEach
    void client() {
        http = ApiTests.client(port);
    }

    private UUID submit(String queue) {
        var job = http.post("/v1/jobs", "{\"type\": \"echo\", \"queue\": \"" + queue + "\"}").json();
        return UUID.fromString(job.get("id").asString());
    }

    /** A queue of the test's own (listed in {@code ApiTest}'s allowed queues), so no other test's records mix in. */
    private static String newQueue(String name) {
        return "lost-" + name;
    }

    private Map<String, Object> row(UUID id) {
        return jdbc.sql("SELECT status, attempts, lost_attempts, error->>'code' AS code FROM jobs WHERE id = :id")
                .param("id", id).query().singleRow();
    }

    private String status(UUID id) {
        return jdbc.sql("SELECT status FROM jobs WHERE id = :id").param("id", id).query(String.class).single();
    }

    private Long recordOffset(UUID id) {
        return jdbc.sql("SELECT record_offset FROM jobs WHERE id = :id AND dispatched_at IS NOT NULL")
                .param("id", id).query(Long.class).optional().orElse(null);
    }

    @Autowired
    SharePositions positions;
    @Autowired
    org.apache.kafka.clients.admin.Admin sharedAdmin;

    @Test
    void theReconcilerAsksKafkaThroughAnAdminClientOfItsOwn() {
        // an admin client sends a broker one request at a time: the rounds, every second, would hold up the health
        // check and the lag gauges whenever the broker is slow to answer one
        assertThat(positions.admin()).isNotSameAs(sharedAdmin);
    }

    @Nested
    class ArchivedWithoutAStart {

        @Test
        void aRejectedRecordIsPublishedAgain() {
            var queue = newQueue("rejected");
            var id = submit(queue);
            try (var worker = new TestShareConsumer(queue)) {
                var first = worker.next(id, Duration.ofSeconds(30));
                worker.acknowledge(first, AcknowledgeType.REJECT);
                var lostAt = System.nanoTime();

                var again = worker.next(id, REDISPATCHED_WITHIN);
                var after = Duration.ofNanos(System.nanoTime() - lostAt);
                log.info("Rejected record of job {} published again after {} ms", id, after.toMillis());
                worker.acknowledge(again, AcknowledgeType.RELEASE);

                // not before a whole interval has passed since Kafka had the reject: the margin for a late event
                assertThat(after).isGreaterThanOrEqualTo(RECONCILE_INTERVAL);

                // a new record (on the next partition: a later attempt's goes to the one after its attempt before's)
                assertThat(List.of(again.partition(), again.offset()))
                        .isNotEqualTo(List.of(first.partition(), first.offset()));
                var dispatch = Json.read(again.value(), JobDispatch.class);
                assertThat(dispatch.attempt()).isEqualTo(2);
                assertThat(row(id)).containsEntry("status", "QUEUED").containsEntry("attempts", 1)
                        .containsEntry("lost_attempts", 1).containsEntry("code", "WORKER_LOST");
            }
        }

        @Test
        void aRecordAcceptedByAWorkerThatStoppedBeforeReportingCostsALostAttemptUntilTheJobFails() {
            var queue = newQueue("halted");
            var id = submit(queue);
            try (var worker = new TestShareConsumer(queue)) {
                // what a worker that dies in a short job leaves: an accepted record, and no start or end
                var first = worker.next(id, Duration.ofSeconds(30));
                worker.acknowledge(first, AcknowledgeType.ACCEPT);
                var second = worker.next(id, REDISPATCHED_WITHIN);
                assertThat(Json.read(second.value(), JobDispatch.class).attempt()).isEqualTo(2);
                worker.acknowledge(second, AcknowledgeType.ACCEPT);
                var third = worker.next(id, REDISPATCHED_WITHIN);
                assertThat(Json.read(third.value(), JobDispatch.class).attempt()).isEqualTo(3);
                worker.acknowledge(third, AcknowledgeType.ACCEPT);
            }
            // max-lost-attempts (3): the third loss fails the job, which the worker it stops never reports
            await().atMost(REDISPATCHED_WITHIN).until(() -> status(id).equals("FAILED"));
            assertThat(row(id)).containsEntry("attempts", 3).containsEntry("lost_attempts", 3)
                    .containsEntry("code", "WORKER_LOST");
            var job = http.get("/v1/jobs/" + id).json();
            assertThat(job.get("error").get("message").asString()).contains("neither its start nor its end");
        }

        @Test
        void aRecordReleasedUpToTheDeliveryLimitIsPublishedAgain() {
            var queue = newQueue("released");
            var id = submit(queue);
            try (var worker = new TestShareConsumer(queue)) {
                var first = worker.next(id, Duration.ofSeconds(30));
                var record = first;
                var releases = 0;
                while (record.offset() == first.offset() && record.partition() == first.partition()) {
                    worker.acknowledge(record, AcknowledgeType.RELEASE);
                    releases++;
                    record = worker.next(id, REDISPATCHED_WITHIN);
                }
                worker.acknowledge(record, AcknowledgeType.RELEASE);

                // group.share.delivery.count.limit, 5 unless the broker says otherwise
                assertThat(releases).isEqualTo(5);
                assertThat(Json.read(record.value(), JobDispatch.class).attempt()).isEqualTo(2);
                assertThat(status(id)).isEqualTo("QUEUED");
            }
        }
    }

    @Nested
    class NotLost {

        @Test
        void aRecordAWorkerHoldsIsLeftAlone() throws InterruptedException {
            var queue = newQueue("held");
            var id = submit(queue);
            try (var worker = new TestShareConsumer(queue)) {
                var record = worker.next(id, Duration.ofSeconds(30));
                await().until(() -> recordOffset(id) != null);

                var round = reconciler.reconcile();

                assertThat(round.redispatched()).doesNotContain(id);
                assertThat(recordOffset(id)).isEqualTo(record.offset());
                worker.acknowledge(record, AcknowledgeType.RELEASE);
            }
        }

        @Test
        void aRecordAcceptedAfterItsStartReachedKafkaIsNotPublishedAgainBeforeTheStartIsApplied()
                throws Exception {
            var queue = newQueue("accepted");
            var id = submit(queue);
            var events = ApiTests.eventsListener(listeners);
            try (var worker = new TestShareConsumer(queue)) {
                var record = worker.next(id, Duration.ofSeconds(30));
                await().until(() -> recordOffset(id) != null);
                // the api falls behind on conveyor.events from here
                events.pause();
                await().until(events::isContainerPaused);
                // what a worker does: its start is on Kafka before it accepts the record
                JobEvent started = new JobStarted(JobEvent.VERSION, id, 1, 0, "test-worker", Instant.now());
                kafka.send(Topics.EVENTS, id.toString(), Json.write(started)).get(10, TimeUnit.SECONDS);
                worker.acknowledge(record, AcknowledgeType.ACCEPT);

                var round = reconciler.reconcile();

                assertThat(round.suspects()).isPositive();
                assertThat(round.eventsApplied()).isFalse();
                assertThat(round.redispatched()).isEmpty();
                assertThat(status(id)).isEqualTo("QUEUED");
                assertThat(recordOffset(id)).isEqualTo(record.offset());
            } finally {
                events.resume();
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> status(id).equals("RUNNING"));
            assertThat(reconciler.reconcile().redispatched()).doesNotContain(id);
            assertThat(status(id)).isEqualTo("RUNNING");
        }
    }
}
