package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.ApiTests;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The poller's batch is shared among the tenants that have jobs due now. Tenants whose only waiting jobs are due
 * later (a job scheduled for tomorrow, say), or whose window is full, took an equal share too, which their jobs could
 * not use: with 99 tenants each holding one job scheduled for tomorrow, a tenant with a thousand retries due got one
 * of a batch of 100 per look (four a second at the default poll interval) instead of the whole batch.
 */
class SharesOfDueTenantsTest {

    private static final int BATCH = 100;

    private final PGSimpleDataSource database = ApiTests.migratedDatabase();
    private final JdbcClient jdbc = JdbcClient.create(database);
    private final ApiInstance instance = new ApiInstance(database);
    private final List<Dispatcher.Item> published = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        instance.start();
    }

    @AfterEach
    void stop() {
        instance.stop();
    }

    @Test
    void tenantsWithNothingDueNowTakeNoShareOfTheBatch() {
        insert("busy", 1000, "- interval '1 minute'");
        for (var i = 0; i < BATCH - 1; i++) {
            insert("later-" + i, 1, "+ interval '1 day'");
        }
        var windows = new TenantWindows(1000, Duration.ofHours(1).toNanos());

        assertThat(poller(windows).dispatchDue()).isEqualTo(BATCH);
        assertThat(published).extracting(Dispatcher.Item::tenant).containsOnly("busy");
    }

    @Test
    void tenantsWhoseWindowIsFullTakeNoShareOfTheBatch() {
        insert("busy", 1000, "- interval '1 minute'");
        insert("full", 1000, "- interval '1 minute'");
        var windows = new TenantWindows(1000, Duration.ofHours(1).toNanos());
        assertThat(windows.reserve("q", "full", 1000)).isEqualTo(1000); // its window is on Kafka, not started

        assertThat(poller(windows).dispatchDue()).isEqualTo(BATCH);
        assertThat(published).extracting(Dispatcher.Item::tenant).containsOnly("busy");
    }

    private DuePoller poller(TenantWindows windows) {
        return new DuePoller(jdbc, (items, takenAt) -> published.addAll(items), ids -> { }, instance::id, () -> true,
                new ApiProperties.Dispatch(Duration.ofMillis(250), BATCH, Duration.ofSeconds(60)), windows,
                new Backlog(0, 0, new LeaseReleases(jdbc, null, instance)), Duration.ofSeconds(35));
    }

    private void insert(String tenant, int jobs, String runAt) {
        jdbc.sql("""
                INSERT INTO jobs (id, type, queue, tenant, status, payload, max_attempts, initial_max_attempts,
                                  timeout_seconds, created_at, run_at, updated_at)
                SELECT gen_random_uuid(), 'echo', 'q', :tenant, 'SCHEDULED', '{}', 3, 3, 60, now(), now() %s, now()
                FROM generate_series(1, :jobs)
                """.formatted(runAt)).param("tenant", tenant).param("jobs", jobs).update();
    }
}
