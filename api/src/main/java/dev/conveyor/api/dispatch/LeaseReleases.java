package dev.conveyor.api.dispatch;

import java.util.HashSet;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.SqlArrayValue;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Gives up this instance's dispatch lease on jobs it could not publish (Kafka refused or was unreachable), many per
 * statement, so that the poller tries them again at once rather than when the lease runs out: after a Kafka outage
 * the jobs accepted meanwhile go out as soon as Kafka is back. Only jobs still unpublished and still leased by this
 * instance for the attempt and generation whose publication failed are released: a job cancelled and retried by hand
 * meanwhile (a later generation, its lease taken again by this instance) is being published on its own, and a poller
 * that took it too would publish it a second time. Best effort: a release that cannot be written leaves the lease to
 * run out.
 */
@Component
class LeaseReleases implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(LeaseReleases.class);
    private static final int BATCH = 1000;

    /**
     * The jobs still unpublished and leased by this instance, read as their rows are locked, by primary key: with the
     * guard in the update's {@code WHERE}, stale statistics let the planner scan a partial index of waiting jobs
     * instead (see {@link JdbcMarkWriter}).
     */
    static final String OURS = """
            SELECT id, generation, attempts,
                   dispatched_at IS NULL AND status = 'QUEUED' AND dispatch_owner = :owner AS ours
            FROM jobs WHERE id = ANY(:ids::uuid[])
            ORDER BY id FOR UPDATE
            """;
    static final String RELEASE = "UPDATE jobs SET dispatch_lease_until = NULL WHERE id = ANY(:ids::uuid[])";

    /** The attempt of a job's generation that a lease was taken to publish (not its payload, held until written). */
    private record Lease(UUID id, int generation, int attempts) {

        static Lease of(Dispatcher.Item job) {
            return new Lease(job.id(), job.generation(), job.attempts());
        }
    }

    private final JdbcClient jdbc;
    private final TransactionTemplate transaction;
    private final ApiInstance instance;
    private final BatchedWrites<Lease> released;

    LeaseReleases(JdbcClient jdbc, TransactionTemplate transaction, ApiInstance instance) {
        this.jdbc = jdbc;
        this.transaction = transaction;
        this.instance = instance;
        this.released = new BatchedWrites<>("lease-releases", BATCH, this::release, (jobs, e) -> log.warn(
                "Could not give up the dispatch lease of {} unpublished jobs (they wait for it to run out): {}", jobs,
                e.getMessage()));
    }

    /** The job's attempt could not be published; never blocks (called on the producer's thread). */
    void release(Dispatcher.Item job) {
        released.add(Lease.of(job));
    }

    /**
     * Gives up the lease of these jobs now, on the calling thread, if they are still unpublished and leased by this
     * instance; if that cannot be written, they are left to the background releases.
     */
    void releaseNow(List<Dispatcher.Item> jobs) {
        var leases = jobs.stream().map(Lease::of).toList();
        try {
            release(leases);
        } catch (RuntimeException e) {
            log.warn("Could not give up the dispatch lease of {} jobs at once (retrying in the background): {}",
                    jobs.size(), e.getMessage());
            released.addAll(leases);
        }
    }

    private void release(List<Lease> leases) {
        var unpublished = new HashSet<>(leases);
        transaction.executeWithoutResult(status -> {
            // locked in id order, as every batched write of jobs locks (JobLocks)
            var ours = jdbc.sql(OURS).param("ids", new SqlArrayValue("uuid", leases.stream().map(Lease::id)
                            .distinct().toArray()))
                    .param("owner", instance.id())
                    .query((rs, row) -> rs.getBoolean("ours") ? new Lease(rs.getObject("id", UUID.class),
                            rs.getInt("generation"), rs.getInt("attempts")) : null).list()
                    .stream().filter(unpublished::contains).map(Lease::id).toList();
            if (!ours.isEmpty()) {
                jdbc.sql(RELEASE).param("ids", new SqlArrayValue("uuid", ours.toArray())).update();
            }
        });
    }

    @Override
    public void start() {
        released.start();
    }

    @Override
    public void stop() {
        released.stop();
    }

    @Override
    public boolean isRunning() {
        return released.isRunning();
    }

    /** Stops after the dispatcher, whose last failures it releases. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 16384;
    }
}
