package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.ApiTests;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The poller reads each tenant's room in its window before it claims, and a submission may fill the window between the
 * two: its jobs are committed with their lease, so the claim passes over them and takes as many others as the room
 * it read. Those must not go onto Kafka past the window; they go back to PostgreSQL at once, and out when the window
 * frees up. (This interleaving put 10 of a tenant's jobs on Kafka with a window of 5 in {@link FairnessTest}.)
 */
class PollerKeepsToTheWindowTest {

    private static final int WINDOW = 5;

    private final PGSimpleDataSource database = ApiTests.migratedDatabase();
    private final JdbcClient jdbc = JdbcClient.create(database);
    private final ApiInstance instance = new ApiInstance(database);
    private final LeaseReleases releases = new LeaseReleases(jdbc,
            new TransactionTemplate(new DataSourceTransactionManager(database)), instance);
    private final List<Dispatcher.Item> published = new CopyOnWriteArrayList<>();
    private final List<UUID> released = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        releases.stop();
        instance.stop();
    }

    @Test
    void jobsClaimedBeyondAWindowASubmissionFilledMeanwhileGoBackToTheStore() {
        instance.start();
        releases.start();
        var submitted = insert(WINDOW, true); // the submission's jobs: committed with this instance's lease
        var waiting = insert(45, false);
        var windows = new TenantWindows(WINDOW, Duration.ofHours(1).toNanos()) {
            private boolean looked;

            @Override
            Map<Pair, Integer> rooms() {
                var rooms = super.rooms();
                if (!looked) {
                    looked = true;
                    // right after the poller's look, before its claim: the submission reserves and holds its slots
                    assertThat(reserve("q", "acme", WINDOW)).isEqualTo(WINDOW);
                    submitted.forEach(id -> hold(id, "q", "acme"));
                }
                return rooms;
            }
        };
        var poller = new DuePoller(jdbc, (items, takenAt) -> published.addAll(items), items -> {
            items.forEach(item -> released.add(item.id()));
            releases.releaseNow(items);
        }, instance::id, () -> true, new ApiProperties.Dispatch(Duration.ofMillis(250), 500, Duration.ofSeconds(60)),
                windows, new Backlog(0, 0, releases), Duration.ofSeconds(35));

        assertThat(poller.dispatchDue()).isZero();

        assertThat(published).isEmpty();
        assertThat(released).containsExactlyElementsOf(waiting.subList(0, WINDOW));
        assertThat(windows.rooms()).containsEntry(new TenantWindows.Pair("q", "acme"), 0);
        assertThat(windows.backlog()).isTrue();
        // given back before the poller's next claim, which takes them first
        assertThat(jdbc.sql("SELECT count(*) FROM jobs WHERE dispatch_lease_until IS NOT NULL").query(Long.class)
                .single()).isEqualTo(WINDOW);

        // the submission's jobs start: the next five, oldest first, go out
        submitted.forEach(windows::settled);
        assertThat(poller.dispatchDue()).isEqualTo(WINDOW);
        assertThat(published).extracting(Dispatcher.Item::id).containsExactlyElementsOf(waiting.subList(0, WINDOW));
        assertThat(windows.rooms()).containsEntry(new TenantWindows.Pair("q", "acme"), 0);
    }

    /** Due jobs of tenant acme on queue q, oldest first, leased by this instance or waiting without a lease. */
    private List<UUID> insert(int jobs, boolean leased) {
        return jdbc.sql("""
                INSERT INTO jobs (id, type, queue, tenant, status, payload, max_attempts, initial_max_attempts,
                                  timeout_seconds, created_at, run_at, updated_at, dispatch_lease_until, dispatch_owner)
                SELECT gen_random_uuid(), 'echo', 'q', 'acme', 'QUEUED', '{}', 3, 3, 60, now(),
                       clock_timestamp() - interval '1 minute', now(),
                       CASE WHEN :leased THEN now() + interval '1 minute' END, CASE WHEN :leased THEN :owner END
                FROM generate_series(1, :jobs) AS n
                ORDER BY n
                RETURNING id, run_at
                """).param("leased", leased).param("owner", instance.id()).param("jobs", jobs)
                .query((rs, row) -> Map.entry(rs.getTimestamp("run_at").toInstant(), rs.getObject("id", UUID.class)))
                .list().stream().sorted(Map.Entry.comparingByKey()).map(Map.Entry::getValue).toList();
    }
}
