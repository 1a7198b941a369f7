package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTests;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;
import org.springframework.transaction.support.TransactionTemplate;

/** What the dispatch marks and the lease releases write, and what they leave alone. */
class DispatchWritesTest {

    private static PGSimpleDataSource dataSource;
    private static Connection connection;
    private static JdbcClient jdbc;
    private static TransactionTemplate transaction;

    @BeforeAll
    static void database() throws Exception {
        dataSource = ApiTests.migratedDatabase();
        connection = dataSource.getConnection();
        var single = new SingleConnectionDataSource(connection, true);
        jdbc = JdbcClient.create(single);
        transaction = new TransactionTemplate(new DataSourceTransactionManager(single));
    }

    @AfterAll
    static void close() throws Exception {
        connection.close();
    }

    /** A job in {@code status}, published for its attempt {@code attempts + 1} under a lease of {@code owner}. */
    private static UUID job(String status, int attempts, boolean marked, Long owner) {
        return jdbc.sql("""
                INSERT INTO jobs (id, type, queue, status, payload, attempts, max_attempts, initial_max_attempts,
                                  timeout_seconds, created_at, run_at, updated_at, started_at, dispatched_at,
                                  dispatch_lease_until, dispatch_owner)
                VALUES (gen_random_uuid(), 'echo', 'default', :status, '{}', :attempts, 5, 5, 60, now(), now(),
                        now(), CASE WHEN :status = 'RUNNING' THEN now() END, CASE WHEN :marked THEN now() END,
                        now() + interval '60 seconds', :owner)
                RETURNING id
                """).param("status", status).param("attempts", attempts).param("marked", marked)
                .param("owner", owner).query(UUID.class).single();
    }

    /** The job's attempt {@code attempts + 1} of {@code generation}, as the dispatcher publishes it. */
    private static Dispatcher.Item attempt(UUID id, int generation, int attempts) {
        return new Dispatcher.Item(id, "default", "echo", "default", attempts, 5, 60, null, generation);
    }

    private static Map<String, Object> row(UUID id) {
        return jdbc.sql("SELECT dispatched_at IS NOT NULL AS marked, record_partition, record_offset,"
                + " dispatch_lease_until IS NOT NULL AS leased FROM jobs WHERE id = :id").param("id", id)
                .query().singleRow();
    }

    @Test
    void aMarkIsWrittenOnlyWhileItsJobWaitsForTheAttemptPublished() {
        var waiting = job("QUEUED", 0, false, 1L);
        var retried = job("QUEUED", 1, false, 1L); // a retry became due: the late mark of attempt 1 must not hide it
        var started = job("RUNNING", 1, false, 1L);
        var marked = job("QUEUED", 0, true, 1L);
        var writer = new JdbcMarkWriter(jdbc, transaction);

        writer.write(List.of(new DispatchMark(waiting, 0, 0, 2, 17), new DispatchMark(retried, 0, 0, 2, 18),
                new DispatchMark(started, 0, 0, 2, 19), new DispatchMark(marked, 0, 0, 2, 20),
                new DispatchMark(UUID.randomUUID(), 0, 0, 2, 21)));

        assertThat(row(waiting)).containsEntry("marked", true).containsEntry("record_partition", 2)
                .containsEntry("record_offset", 17L);
        assertThat(row(retried)).containsEntry("marked", false).containsEntry("record_offset", null);
        assertThat(row(started)).containsEntry("marked", false).containsEntry("record_offset", null);
        assertThat(row(marked)).containsEntry("record_offset", null);
    }

    /**
     * Cancelled while queued and retried before its first record's mark was written: the new generation waits for
     * the same attempt count, and the late mark of the first record must not stand for the second's (the
     * reconciler would take the second for lost once the first was settled, and publish it again).
     */
    @Test
    void aMarkOfAnEarlierGenerationIsNotWritten() {
        var retried = job("QUEUED", 0, false, 1L);
        jdbc.sql("UPDATE jobs SET generation = 1 WHERE id = :id").param("id", retried).update();
        var writer = new JdbcMarkWriter(jdbc, transaction);

        writer.write(List.of(new DispatchMark(retried, 0, 0, 1, 40)));
        assertThat(row(retried)).containsEntry("marked", false).containsEntry("record_offset", null);

        writer.write(List.of(new DispatchMark(retried, 1, 0, 1, 41)));
        assertThat(row(retried)).containsEntry("marked", true).containsEntry("record_offset", 41L);
    }

    /**
     * Given back unstarted before its record's mark was written, and published again under the same attempt: the late
     * mark of the record given back must not stand for the next one (the reconciler would take that for lost once
     * the first was settled).
     */
    @Test
    void aMarkOfADispatchGivenBackIsNotWrittenForTheNextOne() {
        var givenBack = job("QUEUED", 0, false, 1L);
        jdbc.sql("UPDATE jobs SET hand_backs = 1 WHERE id = :id").param("id", givenBack).update();
        var writer = new JdbcMarkWriter(jdbc, transaction);

        writer.write(List.of(new DispatchMark(givenBack, 0, 0, 0, 1, 50)));
        assertThat(row(givenBack)).containsEntry("marked", false).containsEntry("record_offset", null);

        writer.write(List.of(new DispatchMark(givenBack, 0, 0, 1, 1, 51)));
        assertThat(row(givenBack)).containsEntry("marked", true).containsEntry("record_offset", 51L);
    }

    @Test
    void aReleaseGivesUpOnlyThisInstancesLeaseOfAJobStillUnpublished() {
        var instance = new ApiInstance(dataSource);
        var ours = job("QUEUED", 0, false, instance.id());
        var another = job("QUEUED", 0, false, instance.id() + 1);
        var published = job("QUEUED", 0, true, instance.id());
        var started = job("RUNNING", 1, false, instance.id());
        // cancelled while its publication was under way, and retried by hand here: leased again for generation 1
        var retried = job("QUEUED", 0, false, instance.id());
        jdbc.sql("UPDATE jobs SET generation = 1 WHERE id = :id").param("id", retried).update();
        // attempt 1 went out twice, ran and failed; leased again for attempt 2 when the second record's send failed
        var next = job("QUEUED", 1, false, instance.id());
        // connections of its own: it writes on a thread of its own
        var releases = new LeaseReleases(JdbcClient.create(dataSource),
                new TransactionTemplate(new DataSourceTransactionManager(dataSource)), instance);
        releases.start();
        try {
            // in order: once the last is released, the others have been looked at
            List.of(another, published, started).forEach(id -> releases.release(attempt(id, 0, 0)));
            releases.release(attempt(retried, 0, 0)); // generation 0's publication failed
            releases.release(attempt(next, 0, 0));
            releases.release(attempt(ours, 0, 0));

            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(row(ours))
                    .containsEntry("leased", false));
            assertThat(row(another)).containsEntry("leased", true);
            assertThat(row(published)).containsEntry("leased", true);
            assertThat(row(started)).containsEntry("leased", true);
            // released, the poller published generation 1 again beside the publication of the retry itself
            assertThat(row(retried)).containsEntry("leased", true);
            assertThat(row(next)).containsEntry("leased", true);
        } finally {
            releases.stop();
        }
    }
}
