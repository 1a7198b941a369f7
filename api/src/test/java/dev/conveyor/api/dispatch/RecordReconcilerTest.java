package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyList;
import static org.mockito.ArgumentMatchers.anyMap;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.ArgumentMatchers.isNull;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * When the reconciler puts back a job found waiting on a settled record: only once it has been found so for a whole
 * {@code reconcile-interval} (the margin a live worker's event has to arrive), and soon after that, however the loss
 * falls between two rounds. Kafka and PostgreSQL are stood in for: what is timed here is the reconciler's own.
 */
class RecordReconcilerTest {

    private static final String QUEUE = "q";
    private static final LostRecords.Waiting JOB = new LostRecords.Waiting(UUID.randomUUID(), 1, 0, 0);

    private final LostRecords lost = mock(LostRecords.class);
    private final SharePositions kafka = mock(SharePositions.class);
    /** Whether Kafka has settled the job's record (its partition's start offset past it). */
    private final AtomicBoolean settled = new AtomicBoolean();
    private final AtomicLong redispatchedAt = new AtomicLong();

    @BeforeEach
    void standIns() throws InterruptedException {
        when(lost.queues()).thenReturn(List.of(QUEUE));
        when(kafka.settledOffsets(anyList())).thenAnswer(call -> Map.of(QUEUE, Map.of(0, settled.get() ? 1L : 0L)));
        when(lost.below(eq(QUEUE), anyMap(), isNull(), anyInt()))
                .thenAnswer(call -> call.<Map<Integer, Long>>getArgument(1).get(0) > JOB.offset() ? List.of(JOB)
                        : List.of());
        when(lost.below(eq(QUEUE), anyMap(), eq(JOB.id()), anyInt())).thenReturn(List.of());
        when(kafka.eventsEnd()).thenReturn(Map.of());
        when(kafka.awaitApplied(anyMap(), any())).thenReturn(true);
        when(lost.redispatch(anyList())).thenAnswer(call -> {
            redispatchedAt.compareAndSet(0, System.nanoTime());
            return call.<List<LostRecords.Waiting>>getArgument(0).stream().map(LostRecords.Waiting::id).toList();
        });
    }

    @Test
    void aJobFoundOnASettledRecordIsNotPutBackByTheNextRoundsWithinTheInterval() throws InterruptedException {
        var reconciler = new RecordReconciler(lost, kafka, Duration.ofHours(1), new SimpleMeterRegistry());
        settled.set(true);

        for (var round = 0; round < 5; round++) {
            var done = reconciler.reconcile();

            assertThat(done.suspects()).isEqualTo(1);
            assertThat(done.eventsApplied()).isTrue();
            assertThat(done.redispatched()).isEmpty();
        }
        assertThat(redispatchedAt).hasValue(0);
    }

    @Test
    void aRecordSettledJustAfterARoundIsPutBackAboutOneIntervalLater() {
        var interval = Duration.ofSeconds(4);
        var lostAt = new AtomicLong();
        // the loss falls just after a round has read the offsets: the worst case for when the next round comes
        when(kafka.settledOffsets(anyList())).thenAnswer(call -> {
            var offsets = Map.of(QUEUE, Map.of(0, settled.get() ? 1L : 0L));
            if (!settled.get()) {
                lostAt.set(System.nanoTime());
                settled.set(true);
            }
            return offsets;
        });
        var reconciler = new RecordReconciler(lost, kafka, interval, new SimpleMeterRegistry());
        reconciler.start();
        try {
            // one interval of margin, then at most one look more; rounds an interval apart took two intervals
            await().atMost(interval.plus(RecordReconciler.LOOK_EVERY).plusMillis(1500))
                    .until(() -> redispatchedAt.get() != 0);
        } finally {
            reconciler.stop();
        }
        assertThat(Duration.ofNanos(redispatchedAt.get() - lostAt.get())).isGreaterThanOrEqualTo(interval);
    }
}
