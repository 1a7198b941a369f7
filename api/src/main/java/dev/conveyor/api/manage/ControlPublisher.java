package dev.conveyor.api.manage;

import dev.conveyor.api.TaskFailures;
import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import dev.conveyor.common.message.CancelJob;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.support.SendResult;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.transaction.TransactionException;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Tells every worker about a cancellation, on {@code conveyor.control}, until Kafka has it. A cancellation is
 * recorded in {@code unsent_cancels} with the job's change ({@link #record}, in its transaction) and the row is
 * deleted once Kafka acknowledges the record ({@link #send}). An api that dies between the two, or cannot reach
 * Kafka, leaves the row; every instance sends the cancellations left for {@link #RESEND_AFTER} again, every
 * {@link #RESEND_INTERVAL_SECONDS} seconds, until Kafka has them. A cancellation sent twice changes nothing on a
 * worker.
 */
@Component
class ControlPublisher {

    private static final Logger log = LoggerFactory.getLogger(ControlPublisher.class);

    /**
     * How long a cancellation is left to the request that made it before others send it: longer than that
     * request waits for Kafka (10 s), so that a slow acknowledgement is not sent twice.
     */
    static final Duration RESEND_AFTER = Duration.ofSeconds(15);
    static final long RESEND_INTERVAL_SECONDS = 5;
    private static final Duration ACKNOWLEDGED_WITHIN = Duration.ofSeconds(10);
    private static final int RESEND_BATCH = 500;

    private static final String RECORD = """
            INSERT INTO unsent_cancels (job_id, generation) VALUES (:id, :generation)
            ON CONFLICT (job_id, generation) DO UPDATE SET requested_at = now()""";
    private static final String SENT = "DELETE FROM unsent_cancels WHERE job_id = :id AND generation = :generation";
    /** Locked, so that two instances do not send the same ones; skipped while another instance sends them. */
    private static final String LEFT = """
            SELECT job_id, generation FROM unsent_cancels
            WHERE requested_at < now() - make_interval(secs => :afterSeconds)
            ORDER BY requested_at LIMIT :limit FOR UPDATE SKIP LOCKED""";

    private final KafkaTemplate<String, String> kafka;
    private final Clock clock;
    private final JdbcClient jdbc;
    private final TransactionTemplate transaction;
    private final AtomicBoolean resending = new AtomicBoolean();
    /** Whether the passes can read the table (only the resender's thread, one at a time). */
    private final TaskFailures unsentReads = new TaskFailures(log, "Reading the cancellations left unsent",
            "they are not sent again");

    ControlPublisher(KafkaTemplate<String, String> kafka, Clock clock, JdbcClient jdbc,
            TransactionTemplate transaction) {
        this.kafka = kafka;
        this.clock = clock;
        this.jdbc = jdbc;
        this.transaction = transaction;
    }

    /** Notes, in the transaction that cancels the job, that its workers are to be told. */
    void record(UUID jobId, int generation) {
        jdbc.sql(RECORD).param("id", jobId).param("generation", generation).update();
    }

    /**
     * Sends a cancellation {@link #record}ed in a transaction that committed, and waits until Kafka has it, so that a
     * cancel answered 202 reaches the workers. When Kafka cannot be reached the job stays cancelled in the store (its
     * events are ignored) and the cancellation is sent again later.
     */
    void send(UUID jobId, int generation) {
        if (!sent(List.of(new Cancel(jobId, generation))).isEmpty()) {
            try {
                jdbc.sql(SENT).param("id", jobId).param("generation", generation).update();
            } catch (DataAccessException e) {
                log.debug("Could not note that the cancellation of job {} is on Kafka (it is sent again): {}", jobId,
                        e.getMessage());
            }
        }
    }

    /**
     * Sends the cancellations left unsent for {@link #RESEND_AFTER}, on a thread of its own (a send waits for Kafka,
     * and fixed-delay tasks share one scheduler thread with the rescuer), unless a pass still runs.
     */
    @Scheduled(fixedDelay = RESEND_INTERVAL_SECONDS, timeUnit = TimeUnit.SECONDS)
    void scheduled() {
        if (!resending.compareAndSet(false, true)) {
            return;
        }
        Thread.ofVirtual().name("cancel-resender").start(() -> {
            try {
                resend();
                unsentReads.worked();
            } catch (DataAccessException | TransactionException e) {
                unsentReads.failed(e);
            } finally {
                resending.set(false);
            }
        });
    }

    /** Sends the cancellations left unsent, a batch at a time; answers how many Kafka took. */
    int resend() {
        int total = 0;
        while (true) {
            var batch = transaction.execute(status -> {
                var left = jdbc.sql(LEFT).param("afterSeconds", RESEND_AFTER.toSeconds()).param("limit", RESEND_BATCH)
                        .query((rs, n) -> new Cancel(rs.getObject("job_id", UUID.class), rs.getInt("generation")))
                        .list();
                var sent = sent(left);
                for (var cancel : sent) {
                    jdbc.sql(SENT).param("id", cancel.jobId()).param("generation", cancel.generation()).update();
                }
                return new Pass(left.size(), sent.size());
            });
            total += batch.sent();
            if (batch.sent() > 0) {
                log.warn("Sent {} cancellations to the workers again: Kafka had not taken them when they were made",
                        batch.sent());
            }
            if (batch.found() < RESEND_BATCH || batch.sent() < batch.found()) {
                return total;
            }
        }
    }

    /**
     * The cancellations that Kafka acknowledged, all of them given {@link #ACKNOWLEDGED_WITHIN} together. The first
     * is sent alone: when Kafka cannot be reached, that is found out once, not once per cancellation (a send waits up
     * to {@code max.block.ms} for the topic's metadata).
     */
    private List<Cancel> sent(List<Cancel> cancels) {
        var sent = new ArrayList<Cancel>(cancels.size());
        if (cancels.isEmpty()) {
            return sent;
        }
        var deadline = System.nanoTime() + ACKNOWLEDGED_WITHIN.toNanos();
        if (!acknowledged(List.of(cancels.getFirst()), deadline, sent)) {
            return sent;
        }
        acknowledged(cancels.subList(1, cancels.size()), deadline, sent);
        return sent;
    }

    /** Sends {@code cancels}; adds those Kafka took by {@code deadline} to {@code sent}; false if any failed. */
    private boolean acknowledged(List<Cancel> cancels, long deadline, List<Cancel> sent) {
        var sends = new ArrayList<CompletableFuture<SendResult<String, String>>>(cancels.size());
        RuntimeException failure = null;
        for (var cancel : cancels) {
            var message = new CancelJob(CancelJob.VERSION, cancel.jobId(), cancel.generation(), clock.instant());
            try {
                sends.add(kafka.send(Topics.CONTROL, cancel.jobId().toString(), Json.write(message)));
            } catch (RuntimeException e) {
                failure = e;
                break;
            }
        }
        String failed = failure == null ? null : reason(failure);
        int unsent = cancels.size() - sends.size();
        for (int i = 0; i < sends.size(); i++) {
            try {
                sends.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                sent.add(cancels.get(i));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (ExecutionException | TimeoutException e) {
                unsent++;
                failed = failed == null ? reason(e) : failed;
            }
        }
        if (failed != null) {
            log.warn("Could not send {} of {} cancellations to the workers (they are sent again later): {}", unsent,
                    cancels.size(), failed);
        }
        return failed == null;
    }

    private record Cancel(UUID jobId, int generation) {
    }

    private record Pass(int found, int sent) {
    }

    /** Why Kafka did not take a record: the innermost cause's message ("Send failed" alone says nothing). */
    private static String reason(Throwable failure) {
        return String.valueOf(NestedExceptionUtils.getMostSpecificCause(failure).getMessage());
    }
}
