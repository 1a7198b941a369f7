package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Jobs accepted past their tenant's window wait in this instance's memory with its lease, and go out as the window
 * frees up, oldest first, without the poller's claim writing them again; the rows stay the truth when the memory is
 * too late, too full, or gone with its instance.
 */
class BacklogTest {

    private static final int WINDOW = 5;
    private static final Duration SEND_WITHIN = Duration.ofSeconds(35);

    private final PGSimpleDataSource database = ApiTests.migratedDatabase();
    private final JdbcClient jdbc = JdbcClient.create(database);
    private final ApiInstance instance = new ApiInstance(database);
    private final LeaseReleases releases = new LeaseReleases(jdbc,
            new TransactionTemplate(new DataSourceTransactionManager(database)), instance);
    private final TenantWindows windows = new TenantWindows(WINDOW, Duration.ofHours(1).toNanos());
    private final List<Dispatcher.Item> published = new CopyOnWriteArrayList<>();
    private final List<Long> publishedTakenAt = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        instance.start();
        releases.start();
    }

    @AfterEach
    void stop() {
        releases.stop();
        instance.stop();
    }

    @Test
    void jobsPastTheWindowGoOutAsItFreesUpOldestFirstWithoutAnotherWrite() {
        var backlog = new Backlog(100, 1 << 20, releases);
        var poller = poller(backlog, SEND_WITHIN);
        var takenAt = System.nanoTime();
        var jobs = insertLeased(12);
        assertThat(windows.reserve("q", "acme", 12)).isEqualTo(WINDOW);
        assertThat(backlog.reserve(7)).isEqualTo(7);
        jobs.subList(0, WINDOW).forEach(id -> windows.hold(id, "q", "acme")); // published at once by the submission
        jobs.subList(WINDOW, 12).forEach(id -> backlog.keep("q", "acme", item(id), takenAt, 2));
        var versions = rowVersions();

        assertThat(poller.dispatchDue()).isZero();
        assertThat(published).isEmpty();
        assertThat(backlog.size()).isEqualTo(7);

        jobs.subList(0, 3).forEach(windows::settled); // three of them started
        assertThat(poller.dispatchDue()).isEqualTo(3);
        assertThat(published).extracting(Dispatcher.Item::id).containsExactlyElementsOf(jobs.subList(5, 8));
        assertThat(publishedTakenAt).containsOnly(takenAt); // the lease taken at the insert bounds the publication
        assertThat(windows.rooms()).containsEntry(new TenantWindows.Pair("q", "acme"), 0);

        jobs.subList(3, 12).forEach(windows::settled);
        assertThat(poller.dispatchDue()).isEqualTo(4);
        assertThat(published).extracting(Dispatcher.Item::id).containsExactlyElementsOf(jobs.subList(5, 12));
        assertThat(backlog.size()).isZero();
        assertThat(rowVersions()).as("no job was written again: no claim, no lease").isEqualTo(versions);
        assertThat(backlog.reserve(100)).as("every place is free again").isEqualTo(100);
    }

    @Test
    void jobsKeptTooLongToPublishUnderTheirLeaseGoBackToThePoller() {
        var backlog = new Backlog(100, 1 << 20, releases);
        var poller = poller(backlog, SEND_WITHIN);
        var jobs = insertLeased(4);
        assertThat(backlog.reserve(4)).isEqualTo(4);
        var longAgo = System.nanoTime() - SEND_WITHIN.toNanos() - 1;
        jobs.forEach(id -> backlog.keep("q", "acme", item(id), longAgo, 2));

        var versions = rowVersions();

        // too late for their lease: not published from memory but given back, and the poller's claim takes them
        // from the rows with a lease of its own (in this look or a later one, once the release is written)
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            poller.dispatchDue();
            return published.size() == jobs.size();
        });
        assertThat(backlog.size()).isZero();
        assertThat(published).extracting(Dispatcher.Item::id).containsExactlyInAnyOrderElementsOf(jobs);
        assertThat(publishedTakenAt).as("published by the claim, not from memory").doesNotContain(longAgo);
        assertThat(rowVersions()).as("each row written again by the claim").allSatisfy((id, version) ->
                assertThat(version).isNotEqualTo(versions.get(id)));
        assertThat(leased()).containsExactlyInAnyOrderElementsOf(jobs);
    }

    @Test
    void jobsThatEndWhileKeptAreNeverPublished() {
        var backlog = new Backlog(100, 1 << 20, releases);
        var poller = poller(backlog, SEND_WITHIN);
        var jobs = insertLeased(4);
        assertThat(backlog.reserve(4)).isEqualTo(4);
        jobs.forEach(id -> backlog.keep("q", "acme", item(id), System.nanoTime(), 2));

        // two of them cancelled (here or on another instance); the end of a job not kept here changes nothing
        backlog.ended(List.of(jobs.get(1), jobs.get(3), UUID.randomUUID()));
        assertThat(backlog.size()).isEqualTo(2);

        assertThat(poller.dispatchDue()).isEqualTo(2);
        assertThat(published).extracting(Dispatcher.Item::id).containsExactly(jobs.get(0), jobs.get(2));
        assertThat(backlog.size()).isZero();
        assertThat(backlog.reserve(100)).as("every place is free again").isEqualTo(100);
    }

    @Test
    void aFullBacklogLeavesTheRestToThePoller() {
        var backlog = new Backlog(3, 2 * Backlog.ENTRY_BYTES + 10, releases);
        assertThat(backlog.reserve(5)).isEqualTo(3);
        assertThat(backlog.reserve(1)).isZero();
        var jobs = insertLeased(3);
        var now = System.nanoTime();
        backlog.keep("q", "acme", item(jobs.get(0)), now, 6);
        backlog.keep("q", "acme", item(jobs.get(1)), now, 6); // over the bytes: its lease is given back
        backlog.unreserve(1); // the third was found stored before, say

        assertThat(backlog.size()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> !leased().contains(jobs.get(1)));
        assertThat(leased()).contains(jobs.get(0), jobs.get(2));
        assertThat(backlog.reserve(5)).as("the places of the second and third are free again").isEqualTo(2);
    }

    @Test
    void theBacklogOfAnInstanceThatDiedIsPublishedByAnother() {
        var jobs = insertLeased(6);
        var backlog = new Backlog(100, 1 << 20, releases);
        assertThat(backlog.reserve(6)).isEqualTo(6);
        jobs.forEach(id -> backlog.keep("q", "acme", item(id), System.nanoTime(), 2));
        releases.stop();
        instance.stop(); // its memory is gone with it; its leases are those of a dead owner

        var other = new ApiInstance(database);
        other.start();
        try {
            var otherReleases = new LeaseReleases(jdbc, new TransactionTemplate(
                    new DataSourceTransactionManager(database)), other);
            var poller = new DuePoller(jdbc, this::publish, ids -> { }, other::id, () -> true, settings(),
                    new TenantWindows(100, Duration.ofHours(1).toNanos()), new Backlog(100, 1 << 20, otherReleases),
                    SEND_WITHIN);
            // at once: a dead owner's lease does not wait to run out
            assertThat(poller.dispatchDue()).isEqualTo(jobs.size());
            assertThat(published).extracting(Dispatcher.Item::id).containsExactlyInAnyOrderElementsOf(jobs);
            assertThat(jdbc.sql("SELECT DISTINCT dispatch_owner FROM jobs").query(Long.class).list())
                    .containsExactly(other.id());
        } finally {
            other.stop();
        }
    }

    private DuePoller poller(Backlog backlog, Duration sendWithin) {
        return new DuePoller(jdbc, this::publish, releases::releaseNow, instance::id, () -> true, settings(), windows,
                backlog, sendWithin);
    }

    private void publish(List<Dispatcher.Item> items, long takenAt) {
        published.addAll(items);
        items.forEach(item -> publishedTakenAt.add(takenAt));
    }

    private static ApiProperties.Dispatch settings() {
        return new ApiProperties.Dispatch(Duration.ofMillis(250), 500, Duration.ofSeconds(60));
    }

    private static Dispatcher.Item item(UUID id) {
        return new Dispatcher.Item(id, "acme", "echo", "q", 0, 3, 60, Json.object(), 0);
    }

    /** Row versions of every job: any write changes its row's {@code xmin}. */
    private Map<UUID, String> rowVersions() {
        var versions = new java.util.HashMap<UUID, String>();
        jdbc.sql("SELECT id, xmin::text AS version FROM jobs")
                .query(rs -> {
                    versions.put(rs.getObject("id", UUID.class), rs.getString("version"));
                });
        return versions;
    }

    private List<UUID> leased() {
        return jdbc.sql("SELECT id FROM jobs WHERE dispatch_lease_until IS NOT NULL").query(UUID.class).list();
    }

    /** Due jobs of tenant acme on queue q, oldest first, stored with this instance's lease as a submission stores them. */
    private List<UUID> insertLeased(int jobs) {
        var ids = new ArrayList<UUID>();
        for (var i = 0; i < jobs; i++) {
            ids.add(jdbc.sql("""
                    INSERT INTO jobs (id, type, queue, tenant, status, payload, max_attempts, initial_max_attempts,
                                      timeout_seconds, created_at, run_at, updated_at, dispatch_lease_until,
                                      dispatch_owner)
                    VALUES (gen_random_uuid(), 'echo', 'q', 'acme', 'QUEUED', '{}', 3, 3, 60, now(),
                            clock_timestamp() - interval '1 minute', now(), now() + interval '1 minute', :owner)
                    RETURNING id
                    """).param("owner", instance.id()).query(UUID.class).single());
        }
        return ids;
    }
}
