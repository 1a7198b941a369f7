package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.ApiTests;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * A restart of the database ends every api instance's lock at once, and for a moment every lease looks dead: an
 * instance that claimed then published again the jobs the instances had on Kafka, running or about to, whose starts
 * were not yet recorded, and other workers ran them a second time (fault scenario d: 11 of 255 jobs). An instance
 * judges leases only while it holds its own lock, and, once it has taken it again, after the others have had time
 * to take theirs.
 */
class LeasesAfterARestartTest {

    private final PGSimpleDataSource database = ApiTests.migratedDatabase();
    private final JdbcClient jdbc = JdbcClient.create(database);
    private final ApiInstance instance = new ApiInstance(database);
    private final List<Dispatcher.Item> published = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        instance.stop();
    }

    @Test
    void anInstanceJudgesLeasesOnlyWhileItHoldsItsLockAndNotAtOnceAfterTakingItAgain() {
        assertThat(instance.judgesLeases()).isFalse(); // not started: its own leases would look dead
        instance.start();
        assertThat(instance.judgesLeases()).isTrue(); // its first lock: the others' are as they were

        // as a restart of the database does to it: its connection ends, and with it the lock
        assertThat(jdbc.sql("""
                SELECT pg_terminate_backend(pid) FROM pg_locks
                WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = :id""")
                .param("id", instance.id()).query(Boolean.class).single()).isTrue();
        await().atMost(Duration.ofSeconds(10)).until(() -> !instance.judgesLeases());
        await().atMost(Duration.ofSeconds(15)).until(this::lockHeld);
        var regained = System.nanoTime();
        assertThat(instance.judgesLeases()).isFalse();

        await().atMost(Duration.ofSeconds(15)).until(instance::judgesLeases);
        assertThat(Duration.ofNanos(System.nanoTime() - regained))
                .isGreaterThan(ApiInstance.REGAINED_GRACE.minus(ApiInstance.REGAINED_GRACE.dividedBy(4)));
    }

    @Test
    void aPollerThatMayNotJudgeLeasesLeavesThemAlone() {
        instance.start();
        jdbc.sql("""
                INSERT INTO jobs (id, type, queue, tenant, status, payload, max_attempts, initial_max_attempts,
                                  timeout_seconds, created_at, run_at, updated_at, dispatch_lease_until, dispatch_owner)
                SELECT gen_random_uuid(), 'echo', 'q', 'default', 'QUEUED', '{}', 3, 3, 60, now(), now(), now(),
                       now() + interval '1 hour', 4242
                FROM generate_series(1, 3)
                """).update(); // leased by an owner whose lock nobody holds

        assertThat(poller(() -> false).dispatchDue()).isZero();
        assertThat(published).isEmpty();
        assertThat(jdbc.sql("SELECT count(*) FROM jobs WHERE dispatch_owner = 4242").query(Integer.class).single())
                .isEqualTo(3);

        assertThat(poller(() -> true).dispatchDue()).isEqualTo(3);
        assertThat(published).hasSize(3);
    }

    private boolean lockHeld() {
        return jdbc.sql("""
                SELECT count(*) FROM pg_locks
                WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = :id""")
                .param("id", instance.id()).query(Integer.class).single() == 1;
    }

    private DuePoller poller(BooleanSupplier judgesLeases) {
        return new DuePoller(jdbc, (items, takenAt) -> published.addAll(items), ids -> { }, instance::id,
                judgesLeases, new ApiProperties.Dispatch(Duration.ofMillis(250), 100, Duration.ofSeconds(60)),
                new TenantWindows(1000, Duration.ofHours(1).toNanos()),
                new Backlog(0, 0, new LeaseReleases(jdbc, null, instance)), Duration.ofSeconds(35));
    }
}
