package dev.conveyor.api.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.test.HttpJson;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;
import org.springframework.transaction.support.TransactionTemplate;

/** Ended jobs past their retention are deleted, and nothing else. */
@ApiTest
@TestPropertySource(properties = "conveyor.api.retention.interval=1h") // passes run here, not on a timer
class JobCleanerTest {

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
    }

    @LocalServerPort
    int port;
    @Autowired
    JdbcClient jdbc;
    @Autowired
    ApiProperties properties;
    @Autowired
    TransactionTemplate transactions;

    HttpJson http;
    /** Each test's own: a cleaner remembers where its last pass ended. */
    JobCleaner cleaner;

    @BeforeEach
    void client() {
        http = ApiTests.client(port);
        cleaner = new JobCleaner(jdbc, properties, new SimpleMeterRegistry());
        jdbc.sql("DELETE FROM jobs").update();
    }

    /** A job in {@code status} whose last change was recorded {@code ago}. */
    private UUID job(String status, Duration ago, String key) {
        var id = UUID.randomUUID();
        jdbc.sql("""
                INSERT INTO jobs (id, type, queue, status, payload, max_attempts, initial_max_attempts,
                                  timeout_seconds, idempotency_key, request_hash, created_at, run_at, updated_at)
                VALUES (:id, 'echo', 'default', :status, '{}', 3, 3, 60, :key, :hash,
                        now() - make_interval(secs => :ago), now() - make_interval(secs => :ago),
                        now() - make_interval(secs => :ago))""")
                .param("id", id).param("status", status).param("key", key).param("hash", key == null ? null : "h")
                .param("ago", (double) ago.toSeconds()).update();
        return id;
    }

    private boolean exists(UUID id) {
        return jdbc.sql("SELECT count(*) FROM jobs WHERE id = :id").param("id", id).query(Long.class).single() == 1;
    }

    @Test
    void deletesEndedJobsPastTheirRetentionAndKeepsEveryOtherJob() {
        var eightDays = Duration.ofDays(8);
        var gone = List.of(job("SUCCEEDED", eightDays, null), job("CANCELLED", eightDays, null),
                job("FAILED", Duration.ofDays(31), null));
        var kept = List.of(job("SUCCEEDED", Duration.ofDays(6), null), job("CANCELLED", Duration.ofDays(6), null),
                job("FAILED", eightDays, null), job("QUEUED", Duration.ofDays(100), null),
                job("SCHEDULED", Duration.ofDays(100), null), job("RUNNING", Duration.ofDays(100), null));

        assertThat(cleaner.clean()).isEqualTo(3);

        assertThat(gone).noneMatch(this::exists);
        assertThat(kept).allMatch(this::exists);
        // the ended counts follow (the running api moves the old QUEUED, SCHEDULED and RUNNING ones on meanwhile)
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            var queue = http.get("/v1/queues").json().get("queues").get(0);
            assertThat(queue.get("succeeded").asInt()).isEqualTo(1);
            assertThat(queue.get("cancelled").asInt()).isEqualTo(1);
            assertThat(queue.get("failed").asInt()).isEqualTo(1);
        });
    }

    /** A pass reads the index from an hour before the last one's cutoff, not again the month kept of failed jobs. */
    @Test
    void aPassAfterTheFirstLooksOnlyAtWhatBecameDueSince() {
        job("SUCCEEDED", Duration.ofDays(8), null);
        assertThat(cleaner.clean()).isEqualTo(1);
        // one that was due before the last pass but not seen by it (no write makes such a row): left to the daily
        // pass over everything
        var older = job("SUCCEEDED", Duration.ofDays(9), null);
        var newlyDue = job("SUCCEEDED", Duration.ofDays(7).plusMinutes(1), null);

        assertThat(cleaner.clean()).isEqualTo(1);
        assertThat(exists(newlyDue)).isFalse();
        assertThat(exists(older)).isTrue();
    }

    @Test
    void deletesInBatchesUntilNoneIsLeftAndTheirKeysCanBeUsedAgain() {
        for (var i = 0; i < JobCleaner.BATCH * 2 + 500; i++) {
            job("SUCCEEDED", Duration.ofDays(10), i == 0 ? "reused" : null);
        }

        assertThat(cleaner.clean()).isEqualTo(JobCleaner.BATCH * 2 + 500);

        var again = http.post("/v1/jobs", "{\"type\": \"echo\", \"idempotencyKey\": \"reused\"}");
        assertThat(again.status()).isEqualTo(202);
    }

    /**
     * A pass of many batches over a table that keeps a month of failed jobs, older than the succeeded ones due: each
     * batch of the pass read the index again from the oldest entry, every failed job's entry (and its row, for the
     * status) once per batch, so that a backlog of deletions (the first pass of a day, or after a restart) cost its
     * batches times the jobs kept. Counted on a database of its own, so that only the pass reads the index.
     */
    @Test
    void aPassOfManyBatchesReadsTheEntriesOfTheJobsKeptOnce() throws Exception {
        var database = ApiTests.migratedDatabase();
        try (var connection = database.getConnection()) {
            var own = JdbcClient.create(new SingleConnectionDataSource(connection, true));
            var kept = 20_000;
            var due = JobCleaner.BATCH * 5;
            own.sql("""
                    INSERT INTO jobs (id, type, queue, status, payload, max_attempts, initial_max_attempts,
                                      timeout_seconds, created_at, run_at, updated_at)
                    SELECT gen_random_uuid(), 'echo', 'default', CASE WHEN i <= :kept THEN 'FAILED' ELSE 'SUCCEEDED' END,
                           '{}', 3, 3, 60, now() - interval '21 days', now() - interval '21 days',
                           now() - CASE WHEN i <= :kept THEN interval '20 days' ELSE interval '10 days' END
                                 + make_interval(secs => i / 1000.0)
                    FROM generate_series(1, :all) i""").param("kept", kept).param("all", kept + due).update();
            own.sql("ANALYZE jobs").update();
            var before = entriesRead(own);

            assertThat(new JobCleaner(own, properties, new SimpleMeterRegistry()).clean()).isEqualTo(due);

            // the kept jobs' entries once per status that has a pass (succeeded, cancelled), the deleted ones once
            assertThat(entriesRead(own) - before).isLessThan(3L * kept + 2L * due);
            assertThat(own.sql("SELECT count(*) FROM jobs").query(Long.class).single()).isEqualTo(kept);
        }
    }

    /** Entries read from the index of ended jobs in this database, flushed by this connection's backend first. */
    private static long entriesRead(JdbcClient own) {
        own.sql("SELECT pg_stat_force_next_flush()").query().singleRow();
        return own.sql("SELECT idx_tup_read FROM pg_stat_user_indexes WHERE indexrelname = 'jobs_ended_idx'")
                .query(Long.class).single();
    }

    /** Held as it became due: the next pass looks back an hour before the last one's cutoff. */
    @Test
    void skipsAJobAnotherTransactionHoldsAndDeletesItOnTheNextPass() throws Exception {
        var justDue = Duration.ofDays(30).plusMinutes(10);
        var held = job("FAILED", justDue, null);
        var free = job("FAILED", justDue, null);
        var locked = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        var holder = CompletableFuture.runAsync(() -> transactions.executeWithoutResult(status -> {
            // as a retry of the failed job would, while it runs
            jdbc.sql("SELECT id FROM jobs WHERE id = :id FOR UPDATE").param("id", held).query(UUID.class).single();
            locked.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        assertThat(locked.await(10, TimeUnit.SECONDS)).isTrue();

        assertThat(cleaner.clean()).isEqualTo(1);
        assertThat(exists(held)).isTrue();
        assertThat(exists(free)).isFalse();

        release.countDown();
        holder.get(10, TimeUnit.SECONDS);
        assertThat(cleaner.clean()).isEqualTo(1);
        assertThat(exists(held)).isFalse();
    }
}
