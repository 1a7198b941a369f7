package dev.conveyor.api.queues;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.api.queues.TestJobs.Row;
import dev.conveyor.api.retention.JobCleaner;
import dev.conveyor.common.JobStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The counters behind {@code GET /v1/queues} always equal {@code count(*) ... GROUP BY queue, status}, whatever
 * batched writes, in whatever mix, committed or rolled back, one writer or many.
 */
@ApiTest
class QueueCountsTest {

    private static final List<String> STATUSES =
            List.of("SCHEDULED", "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED");

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
    }

    @Autowired
    JdbcClient jdbc;
    @Autowired
    TransactionTemplate transaction;
    @Autowired
    JobCleaner cleaner;

    @Test
    void countersEqualTheJobsAfterRandomBatchesOfWrites() {
        var seed = System.nanoTime();
        var random = new Random(seed);
        for (var step = 0; step < 60; step++) {
            var operation = randomWrite(random, "prop-");
            if (random.nextInt(4) == 0) {
                transaction.executeWithoutResult(tx -> {
                    operation.run();
                    randomWrite(random, "prop-").run();
                });
            } else {
                operation.run();
            }
            assertThat(TestJobs.mismatches(jdbc)).as("seed %d, step %d", seed, step).isEmpty();
        }
        assertThat(jdbc.sql("SELECT count(*) FROM jobs WHERE queue LIKE 'prop-%'").query(Long.class).single())
                .as("the writes left jobs to count").isPositive();
    }

    @Test
    void rolledBackWritesCountNothing() {
        var random = new Random(7);
        randomInsert(random, "undo-").run();
        var before = jdbc.sql("SELECT queue, status, sum(n) AS n FROM queue_counts GROUP BY 1, 2 ORDER BY 1, 2")
                .query().listOfRows();

        transaction.executeWithoutResult(tx -> {
            randomInsert(random, "undo-").run();
            randomStatusUpdate(random, "undo-").run();
            jdbc.sql("DELETE FROM jobs WHERE queue LIKE 'undo-%'").update();
            tx.setRollbackOnly();
        });

        assertThat(jdbc.sql("SELECT queue, status, sum(n) AS n FROM queue_counts GROUP BY 1, 2 ORDER BY 1, 2")
                .query().listOfRows()).isEqualTo(before);
        assertThat(TestJobs.mismatches(jdbc)).isEmpty();
    }

    @Test
    void truncatingTheJobsEmptiesTheCounters() {
        randomInsert(new Random(3), "trunc-").run();

        // rolled back, so the other tests' jobs stay
        transaction.executeWithoutResult(tx -> {
            jdbc.sql("TRUNCATE jobs").update();
            assertThat(jdbc.sql("SELECT count(*) FROM queue_counts").query(Long.class).single()).isZero();
            tx.setRollbackOnly();
        });
        assertThat(TestJobs.mismatches(jdbc)).isEmpty();
    }

    @Test
    void concurrentWritersOfTheSameQueuesKeepTheCountersExact() throws Exception {
        var seed = System.nanoTime();
        try (var writers = Executors.newVirtualThreadPerTaskExecutor()) {
            var done = new ArrayList<Future<?>>();
            for (var w = 0; w < 8; w++) {
                var random = new Random(seed + w);
                var own = "conc-" + w + "-";
                done.add(writers.submit(() -> {
                    for (var round = 0; round < 15; round++) {
                        // every writer inserts into the same queues, and moves only its own jobs (so the job
                        // rows themselves never wait on each other; the counter rows are what is shared)
                        TestJobs.insert(jdbc, randomRows(random, "conc-shared", 1 + random.nextInt(100), own));
                        var jobs = jdbc.sql("SELECT id, status FROM jobs WHERE idempotency_key LIKE :own"
                                + " ORDER BY random() LIMIT :n").param("own", own + "%")
                                .param("n", 1 + random.nextInt(100)).query(Current.class).list();
                        moveAtRandom(random, jobs);
                    }
                }));
            }
            for (var future : done) {
                future.get();
            }
        }
        assertThat(TestJobs.mismatches(jdbc)).as("seed %d", seed).isEmpty();
    }

    /**
     * The counters of a queue whose jobs are all gone (deleted past their retention) are removed by the cleaner's
     * pass: they were kept for ever, one row per tenant, queue, status and writer's slot, and every
     * {@code GET /v1/queues} summed them all.
     */
    @Test
    void theCleanersPassRemovesCountersThatAddUpToNothing() {
        var random = new Random(11);
        for (var i = 0; i < 5; i++) {
            randomInsert(random, "gone-").run();
            randomStatusUpdate(random, "gone-").run();
        }
        jdbc.sql("DELETE FROM jobs WHERE queue LIKE 'gone-%'").update();
        assertThat(rowsOf("gone-%")).as("counter rows left by the deleted jobs").isPositive();

        cleaner.clean();

        assertThat(rowsOf("gone-%")).isZero();
        assertThat(TestJobs.mismatches(jdbc)).isEmpty();
    }

    @Test
    void theCleanersPassAmongConcurrentWritersKeepsTheCountersExact() throws Exception {
        var seed = System.nanoTime();
        var writing = new java.util.concurrent.atomic.AtomicBoolean(true);
        try (var writers = Executors.newVirtualThreadPerTaskExecutor()) {
            var done = new ArrayList<Future<?>>();
            for (var w = 0; w < 6; w++) {
                var random = new Random(seed + w);
                var own = "churn-" + w + "-";
                done.add(writers.submit(() -> {
                    for (var round = 0; round < 15; round++) {
                        TestJobs.insert(jdbc, randomRows(random, "churn-shared", 1 + random.nextInt(50), own));
                        var jobs = jdbc.sql("SELECT id, status FROM jobs WHERE idempotency_key LIKE :own"
                                + " ORDER BY random() LIMIT :n").param("own", own + "%")
                                .param("n", 1 + random.nextInt(50)).query(Current.class).list();
                        moveAtRandom(random, jobs);
                        jdbc.sql("DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE idempotency_key LIKE :own"
                                + " ORDER BY random() LIMIT :n)").param("own", own + "%")
                                .param("n", random.nextInt(50)).update();
                    }
                }));
            }
            var cleaning = writers.submit(() -> {
                while (writing.get()) {
                    cleaner.clean();
                }
            });
            for (var future : done) {
                future.get();
            }
            writing.set(false);
            cleaning.get();
        }
        assertThat(TestJobs.mismatches(jdbc)).as("seed %d", seed).isEmpty();
    }

    private long rowsOf(String queues) {
        return jdbc.sql("SELECT count(*) FROM queue_counts WHERE queue LIKE :queues").param("queues", queues)
                .query(Long.class).single();
    }

    private Runnable randomWrite(Random random, String prefix) {
        return switch (random.nextInt(6)) {
            case 0, 1 -> randomInsert(random, prefix);
            case 2 -> randomStatusUpdate(random, prefix);
            case 3 -> () -> jdbc.sql("UPDATE jobs SET queue = :queue WHERE id IN (SELECT id FROM jobs"
                    + " WHERE queue LIKE :prefix ORDER BY random() LIMIT :n)")
                    .param("queue", prefix + random.nextInt(4)).param("prefix", prefix + "%")
                    .param("n", random.nextInt(50)).update();
            // a dispatch mark: touches rows, changes no count
            case 4 -> () -> jdbc.sql("UPDATE jobs SET dispatched_at = now() WHERE id IN (SELECT id FROM jobs"
                    + " WHERE queue LIKE :prefix ORDER BY random() LIMIT :n)")
                    .param("prefix", prefix + "%").param("n", random.nextInt(200)).update();
            default -> () -> jdbc.sql("DELETE FROM jobs WHERE id IN (SELECT id FROM jobs"
                    + " WHERE queue LIKE :prefix ORDER BY random() LIMIT :n)")
                    .param("prefix", prefix + "%").param("n", random.nextInt(80)).update();
        };
    }

    /** A batch of 1 to 300 jobs; some reuse an idempotency key, so the insert skips them. */
    private Runnable randomInsert(Random random, String prefix) {
        var rows = randomRows(random, prefix + random.nextInt(4), 1 + random.nextInt(300), prefix + "key-");
        return () -> TestJobs.insert(jdbc, rows);
    }

    private Runnable randomStatusUpdate(Random random, String prefix) {
        var n = random.nextInt(300);
        return () -> {
            var jobs = jdbc.sql("SELECT id, status FROM jobs WHERE queue LIKE :prefix ORDER BY random() LIMIT :n")
                    .param("prefix", prefix + "%").param("n", n).query(Current.class).list();
            moveAtRandom(random, jobs);
        };
    }

    private record Current(UUID id, String status) {
    }

    /** Moves each job to a status picked at random among those the state machine allows (the database checks). */
    private void moveAtRandom(Random random, List<Current> jobs) {
        var next = jobs.stream().map(job -> {
            var allowed = new ArrayList<>(JobStatus.valueOf(job.status()).allowedNext());
            allowed.add(JobStatus.valueOf(job.status()));
            return allowed.get(random.nextInt(allowed.size())).name();
        }).toList();
        TestJobs.setStatus(jdbc, jobs.stream().map(Current::id).toList(), next);
    }

    private static List<Row> randomRows(Random random, String queue, int n, String keyPrefix) {
        var rows = new ArrayList<Row>();
        for (var i = 0; i < n; i++) {
            // keys from a small range collide with earlier batches now and then
            var key = random.nextInt(5) == 0 ? keyPrefix + random.nextInt(2_000) : keyPrefix + UUID.randomUUID();
            rows.add(new Row(UUID.randomUUID(), queue, randomStatus(random), Instant.now(), key));
        }
        return rows;
    }

    private static String randomStatus(Random random) {
        return STATUSES.get(random.nextInt(STATUSES.size()));
    }
}
