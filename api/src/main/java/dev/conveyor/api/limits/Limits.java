package dev.conveyor.api.limits;

import dev.conveyor.api.auth.Caller;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Enforces {@link LimitsProperties} per API key and tenant, in memory (no query on the request path, except one
 * count per tenant and second for {@code queued-per-tenant}). Each api instance counts on its own: with N instances
 * behind a balancer a key may submit up to N times the rate.
 *
 * <p>Without keys (open mode) there is no key to count by: the limits per key would make every client one, and cap
 * the whole api at {@code long-polls-per-key} waiting clients where the contract lets thousands wait. Only the
 * tenant's limit applies then (to the tenant {@code default}).
 */
@Component
public class Limits {

    private static final String QUEUED = """
            SELECT coalesce(sum(n), 0) FROM queue_counts
            WHERE tenant = :tenant AND status IN ('SCHEDULED', 'QUEUED')""";
    private static final long COUNT_EVERY_NANOS = 1_000_000_000L;

    private final LimitsProperties limits;
    private final JdbcClient jdbc;
    private final ConcurrentHashMap<String, TokenBucket> submits = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Semaphore> longPolls = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Semaphore> listings = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Backlog> backlogs = new ConcurrentHashMap<>();

    private final AtomicInteger listingsUnderWay = new AtomicInteger();
    /** This instance's long-polls, all keys together; null without a bound. */
    private final Semaphore longPollsHere;

    @Autowired
    Limits(LimitsProperties limits, JdbcClient jdbc, MeterRegistry meters,
            @Value("${server.tomcat.max-connections:" + LimitsProperties.DEFAULT_MAX_CONNECTIONS + "}")
            int maxConnections) {
        this(limits, jdbc, meters);
        limits.requireRoomBeside(maxConnections);
    }

    Limits(LimitsProperties limits, JdbcClient jdbc, MeterRegistry meters) {
        this.limits = limits;
        this.jdbc = jdbc;
        this.longPollsHere = limits.longPolls() > 0 ? new Semaphore(limits.longPolls()) : null;
        Gauge.builder("conveyor.listings.under.way", listingsUnderWay, AtomicInteger::get)
                .description("GET /v1/jobs listings of keys under way on this instance (lists-per-key counts them)")
                .register(meters);
    }

    /** Takes {@code jobs} from the key's submission budget, or throws a 429 saying when they would fit. */
    public void submitting(Caller caller, int jobs) {
        submitting(caller, jobs, () -> jobs);
    }

    /**
     * As {@link #submitting(Caller, int)}, where only {@code newJobs} of the {@code jobs} would be stored (the others
     * replay an idempotency key): asked only when the tenant's waiting jobs are at its limit, since a replay adds no
     * job, and a client sending its submission again (it lost the answer) is owed the earlier job, not a 429.
     */
    public void submitting(Caller caller, int jobs, IntSupplier newJobs) {
        var backlog = limits.queuedPerTenant() > 0 ? checkBacklog(caller.tenant(), jobs, newJobs) : null;
        if (limits.submitRate() > 0 && !caller.open()) {
            var bucket = submits.computeIfAbsent(caller.keyId(),
                    key -> new TokenBucket(limits.submitRate(), limits.submitBurst()));
            var wait = bucket.take(jobs, System.nanoTime());
            if (wait > 0) {
                var seconds = Math.max(1, (wait + 999_999_999L) / 1_000_000_000L);
                throw new TooManyRequests("rate-limited", "Too many submissions", "This key may submit "
                        + format(limits.submitRate()) + " jobs per second (bursts of " + limits.submitBurst()
                        + "); these " + jobs + " would fit in " + seconds + " s", seconds);
            }
        }
        if (backlog != null) {
            backlog.added(jobs);
        }
    }

    /**
     * A job of {@code tenant} goes back to waiting (a retry): throws a 429 when that takes the tenant past its limit,
     * as a submission would. Not a submission: the key's rate does not count it.
     */
    public void retrying(String tenant) {
        if (limits.queuedPerTenant() > 0) {
            checkBacklog(tenant, 1, () -> 1).added(1);
        }
    }

    /**
     * Holds one of the instance's long-polls and one of the key's until the returned handle is closed; or throws a
     * 429. Past the instance's, the refusal closes its connection: the web server is short of them.
     */
    public Permit longPoll(Caller caller) {
        if (longPollsHere != null && !longPollsHere.tryAcquire()) {
            throw new TooManyRequests("too-many-long-polls", "Too many open long-polls", "This api instance has "
                    + limits.longPolls() + " requests with wait open at once, the most it holds while keeping "
                    + "connections for other requests; try again in a second, or poll without wait", 1, true);
        }
        try {
            var key = hold(longPolls, caller, limits.longPollsPerKey(), () -> new TooManyRequests(
                    "too-many-long-polls", "Too many open long-polls", "This key has " + limits.longPollsPerKey()
                            + " requests with wait open at once, the most allowed; wait for one to answer, or poll "
                            + "without wait", 1));
            return longPollsHere == null ? key : () -> {
                key.close();
                longPollsHere.release();
            };
        } catch (RuntimeException e) {
            if (longPollsHere != null) {
                longPollsHere.release();
            }
            throw e;
        }
    }

    /**
     * Holds one of the key's listings under way until the returned handle is closed; or throws a 429. A listing
     * holds a database connection while it runs, so a key sending many slow ones at once would take the pool from
     * every other client of this instance.
     */
    public Permit listing(Caller caller) {
        var permit = hold(listings, caller, limits.listsPerKey(), () -> new TooManyRequests("too-many-listings",
                "Too many listings at once", "This key has " + limits.listsPerKey() + " listings of jobs under way "
                        + "at once, the most allowed; send the next when one has answered", 1));
        listingsUnderWay.incrementAndGet();
        return () -> {
            listingsUnderWay.decrementAndGet();
            permit.close();
        };
    }

    /** One of {@code most} places of the caller's key in {@code held} (none counted without a key, or at 0). */
    private static Permit hold(ConcurrentHashMap<String, Semaphore> held, Caller caller, int most,
            Supplier<TooManyRequests> refusal) {
        if (most <= 0 || caller.open()) {
            return () -> { };
        }
        var places = held.computeIfAbsent(caller.keyId(), key -> new Semaphore(most));
        if (!places.tryAcquire()) {
            throw refusal.get();
        }
        return places::release;
    }

    /** An open long-poll's, or a listing's, place, given back on close. */
    public interface Permit extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Throws a 429 when the jobs that would be stored take the tenant past its limit; answers its count to add them
     * to.
     */
    private Backlog checkBacklog(String tenant, int jobs, IntSupplier newJobs) {
        var backlog = backlogs.computeIfAbsent(tenant, t -> new Backlog());
        var queued = backlog.queued(tenant, System.nanoTime());
        if (queued + jobs > limits.queuedPerTenant() && tooMany(queued, newJobs.getAsInt())) {
            throw new TooManyRequests("tenant-backlog-full", "Too many jobs waiting", "This tenant has about "
                    + queued + " jobs waiting (SCHEDULED or QUEUED), and may have at most "
                    + limits.queuedPerTenant() + "; submit again as they run", 5);
        }
        return backlog;
    }

    /** Whether storing {@code newJobs} takes a tenant with {@code queued} waiting past its limit (none never does). */
    private boolean tooMany(long queued, int newJobs) {
        return newJobs > 0 && queued + newJobs > limits.queuedPerTenant();
    }

    /**
     * A tenant's waiting jobs as last counted, plus those accepted here since. One request at a time counts, outside
     * the lock that guards the figures: the others go on with the last count meanwhile, so a slow or unreachable
     * database costs each submission one wait at most, not one per submission queued behind the lock (a count that
     * fails is tried again a second later, the last one serving until then).
     */
    private final class Backlog {

        private final ReentrantLock counting = new ReentrantLock();
        // guarded by this
        private long counted;
        private long addedSince;
        private long countedAt;
        private boolean ever;
        private RuntimeException firstFailure;
        private long failedAt;

        long queued(String tenant, long now) {
            synchronized (this) {
                if (ever && now - countedAt <= COUNT_EVERY_NANOS) {
                    return counted + addedSince;
                }
            }
            if (!counting.tryLock()) {
                synchronized (this) {
                    if (ever) {
                        return counted + addedSince;
                    }
                }
                counting.lock(); // the very first count: nothing to go on meanwhile
            }
            try {
                synchronized (this) {
                    if (ever && now - countedAt <= COUNT_EVERY_NANOS) {
                        return counted + addedSince; // counted while this request waited
                    }
                }
                synchronized (this) {
                    if (!ever && firstFailure != null && now - failedAt <= COUNT_EVERY_NANOS) {
                        throw firstFailure; // the first count failed a moment ago: the requests behind it fail fast
                    }
                }
                long fresh;
                try {
                    fresh = jdbc.sql(QUEUED).param("tenant", tenant).query(Long.class).single();
                } catch (RuntimeException e) {
                    synchronized (this) {
                        if (!ever) {
                            firstFailure = e;
                            failedAt = System.nanoTime();
                            throw e;
                        }
                        countedAt = System.nanoTime();
                        return counted + addedSince;
                    }
                }
                synchronized (this) {
                    counted = fresh;
                    addedSince = 0;
                    countedAt = now;
                    ever = true;
                    return counted;
                }
            } finally {
                counting.unlock();
            }
        }

        synchronized void added(int jobs) {
            addedSince += jobs;
        }
    }

    private static String format(double rate) {
        return rate == Math.rint(rate) ? Long.toString((long) rate) : Double.toString(rate);
    }
}
