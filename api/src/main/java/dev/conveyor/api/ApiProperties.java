package dev.conveyor.api;

import dev.conveyor.common.JobLimits;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.regex.Pattern;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.ConstructorBinding;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Settings of the api, under {@code conveyor.api}. Checked at start-up.
 *
 * @param maxPayloadBytes    largest accepted {@code payload}, encoded as JSON (a bigger one is a 413)
 * @param maxBatchBodyBytes  largest accepted body of {@code POST /v1/jobs/batch}
 * @param bodyMemoryBytes    most memory submissions' bodies may take at once, counted as twice each body's size (0: a
 *                           quarter of the heap); a submission that finds none free for 5 s is a 503
 * @param bodyTimeout        how long a request body may take to arrive, plus a second for every {@code bodyMinRate}
 *                           bytes of it received, and the longest one read of it may wait; a body that takes longer
 *                           is a 400 naming {@code body}, and the memory reserved for it is given back at once (a
 *                           client sending a byte now and then must not hold {@code bodyMemoryBytes} for ever)
 * @param bodyMinRate        bytes per second at which a body is never cut off, however long it takes (0: every body
 *                           must arrive within {@code bodyTimeout})
 * @param queuePartitions    partitions of a queue's topic when the api creates it
 * @param replicationFactor  replication factor of the topics the api creates
 * @param insertWriters      threads that write coalesced single submissions (each writes one batch at a time). One by
 *                           default: measured against two, it wrote fewer, larger inserts, and single submissions
 *                           cost the api a sixth less CPU each (docs/performance.md, "One writer for single
 *                           submissions")
 * @param insertBatchSize    most rows in one insert statement
 * @param insertWait         longest a single submission waits for a writer to take it (the writers held up by a
 *                           database that stopped answering, or behind more than they can write); past it, a 503 and
 *                           nothing is stored
 * @param dispatch           the safety-net dispatcher
 * @param retry              backoff between attempts
 * @param rescueGrace        how long past its deadline a RUNNING attempt may stay silent before it counts as lost
 * @param rescueInterval     how often the rescuer looks for lost attempts
 * @param workerTtl          a worker not heard from for this long is no longer listed
 * @param workerLostAfter    a worker not heard from for this long, while this instance reads heartbeats up to
 *                           date, is taken for dead: its running attempts are lost and run again
 * @param queues             the queues jobs may be submitted to; a submission to any other is refused (400), so
 *                           that a typo does not create a Kafka topic and share group that no worker reads
 * @param retention          how long ended jobs are kept
 * @param migrationLockTimeout longest a migration at start waits for a lock on a table (0: for ever); every statement
 *                           of the running apis on that table queues behind the waiting migration, so that a migration
 *                           past it gives up, rolled back, and the api does not start (its next start tries again).
 *                           An index built {@code CONCURRENTLY} holds nobody while it waits, and waits for ever
 */
@ConfigurationProperties("conveyor.api")
public record ApiProperties(
        @DefaultValue("262144") int maxPayloadBytes,
        @DefaultValue("67108864") int maxBatchBodyBytes,
        @DefaultValue("0") long bodyMemoryBytes,
        @DefaultValue("20s") Duration bodyTimeout,
        @DefaultValue("65536") long bodyMinRate,
        @DefaultValue("3") int queuePartitions,
        @DefaultValue("1") short replicationFactor,
        @DefaultValue("1") int insertWriters,
        @DefaultValue("500") int insertBatchSize,
        @DefaultValue("5s") Duration insertWait,
        @DefaultValue Dispatch dispatch,
        @DefaultValue Retry retry,
        @DefaultValue("2m") Duration rescueGrace,
        @DefaultValue("1s") Duration rescueInterval,
        @DefaultValue("30s") Duration workerTtl,
        @DefaultValue("5s") Duration workerLostAfter,
        @DefaultValue("default") List<String> queues,
        @DefaultValue Retention retention,
        @DefaultValue("3s") Duration migrationLockTimeout) {

    public ApiProperties {
        require(maxPayloadBytes >= 2, "conveyor.api.max-payload-bytes must be at least 2 (the size of {})");
        require(maxBatchBodyBytes >= maxPayloadBytes, "conveyor.api.max-batch-body-bytes must be at least "
                + "conveyor.api.max-payload-bytes");
        require(bodyMemoryBytes >= 0, "conveyor.api.body-memory-bytes must not be negative");
        require(bodyTimeout.compareTo(Duration.ofSeconds(1)) >= 0 && bodyTimeout.compareTo(Duration.ofHours(1)) <= 0,
                "conveyor.api.body-timeout must be from 1s to 1h");
        require(bodyMinRate >= 0, "conveyor.api.body-min-rate must not be negative (0: no rate lets a body take longer "
                + "than body-timeout)");
        require(queuePartitions >= 1, "conveyor.api.queue-partitions must be at least 1");
        require(replicationFactor >= 1, "conveyor.api.replication-factor must be at least 1");
        require(insertWriters >= 1, "conveyor.api.insert-writers must be at least 1");
        require(insertBatchSize >= 1, "conveyor.api.insert-batch-size must be at least 1");
        require(insertWait.compareTo(Duration.ofMillis(100)) >= 0 && insertWait.compareTo(Duration.ofHours(1)) <= 0,
                "conveyor.api.insert-wait must be from 100ms to 1h");
        require(rescueGrace.isPositive() && rescueGrace.compareTo(LONGEST) <= 0,
                "conveyor.api.rescue-grace must be positive and at most 36500d");
        require(isLoopInterval(rescueInterval), "conveyor.api.rescue-interval must be from 10ms to 1d");
        require(workerTtl.isPositive(), "conveyor.api.worker-ttl must be positive");
        require(workerLostAfter.compareTo(Duration.ofSeconds(1)) >= 0,
                "conveyor.api.worker-lost-after must be at least 1s (and several of the workers' heartbeat-interval)");
        require(!migrationLockTimeout.isNegative() && migrationLockTimeout.compareTo(Duration.ofHours(1)) <= 0,
                "conveyor.api.migration-lock-timeout must be from 0 (for ever) to 1h");
        queues = queues == null ? List.of() : List.copyOf(queues);
        require(!queues.isEmpty(), "conveyor.api.queues must name at least one queue, e.g. default");
        var named = new HashSet<String>();
        for (var queue : queues) {
            require(QUEUE_NAME.matcher(queue).matches(), "conveyor.api.queues: '" + queue
                    + "' is not a queue name; names match " + JobLimits.QUEUE_PATTERN);
            require(named.add(queue), "conveyor.api.queues names '" + queue + "' twice: name each queue once");
        }
    }

    /**
     * @param pollInterval how often the dispatcher looks for due jobs that are not on Kafka yet
     * @param batchSize    most jobs it takes per look
     * @param lease        how long a taken job is left to its dispatcher before another may publish it
     * @param reconcileInterval how long a dispatched job must have been found waiting on a record Kafka acknowledged
     *                     or archived, without an event of the attempt reaching the api, before the attempt counts as
     *                     lost (the reconciler looks every second); at least 1s, twice the most a worker waits before
     *                     it reports a start ({@code start-event-after})
     * @param tenantWindow most jobs of one tenant in one queue that an api instance keeps on Kafka not started yet;
     *                     the rest wait in PostgreSQL, so another tenant's new job waits behind at most this many
     * @param tenantWindowExpiry a job on Kafka whose start this instance has not seen for this long (another instance
     *                     read it, or the record was lost) no longer counts against its tenant's window
     * @param backlogJobs  most jobs beyond their tenant's window that an api instance keeps in memory, with its lease,
     *                     to publish as the window frees up ({@code Backlog}); the rest wait for the poller's claim
     * @param backlogBytes most memory the jobs kept so may take, counted as their payloads (encoded) and 256 bytes each
     */
    public record Dispatch(
            @DefaultValue("250ms") Duration pollInterval,
            @DefaultValue("500") int batchSize,
            @DefaultValue("60s") Duration lease,
            @DefaultValue("10s") Duration reconcileInterval,
            @DefaultValue("1000") int tenantWindow,
            @DefaultValue("30s") Duration tenantWindowExpiry,
            @DefaultValue("50000") int backlogJobs,
            @DefaultValue("16777216") long backlogBytes) {

        @ConstructorBinding
        public Dispatch {
            require(isLoopInterval(pollInterval), "conveyor.api.dispatch.poll-interval must be from 10ms to 1d");
            require(batchSize >= 1, "conveyor.api.dispatch.batch-size must be at least 1");
            require(lease.compareTo(Duration.ofSeconds(1)) >= 0, "conveyor.api.dispatch.lease must be at least 1s");
            require(reconcileInterval.compareTo(Duration.ofSeconds(1)) >= 0,
                    "conveyor.api.dispatch.reconcile-interval must be at least 1s");
            require(tenantWindow >= 1, "conveyor.api.dispatch.tenant-window must be at least 1");
            require(tenantWindowExpiry.compareTo(Duration.ofSeconds(1)) >= 0,
                    "conveyor.api.dispatch.tenant-window-expiry must be at least 1s");
            require(backlogJobs >= 0, "conveyor.api.dispatch.backlog-jobs must not be negative");
            require(backlogBytes >= 0, "conveyor.api.dispatch.backlog-bytes must not be negative");
        }

        /** With the default backlog (for code written before it existed). */
        public Dispatch(Duration pollInterval, int batchSize, Duration lease, Duration reconcileInterval,
                int tenantWindow, Duration tenantWindowExpiry) {
            this(pollInterval, batchSize, lease, reconcileInterval, tenantWindow, tenantWindowExpiry, 50_000,
                    16L << 20);
        }

        /** With the default reconcile interval and window (for code written before they existed). */
        public Dispatch(Duration pollInterval, int batchSize, Duration lease) {
            this(pollInterval, batchSize, lease, Duration.ofSeconds(10), 1000, Duration.ofSeconds(30));
        }
    }

    /**
     * Delay before attempt n+1: {@code min(maxDelay, baseDelay * 2^(n-1))}, spread by {@code ±jitter}.
     *
     * @param baseDelay delay after the first failed attempt
     * @param maxDelay  longest delay, at most 365 days
     * @param jitter    fraction 0..1 by which each delay is randomly shortened or lengthened
     * @param maxRetryAfter   the longest wait a failure may ask for ({@code Retry-After}); longer asks get this
     * @param maxLostAttempts attempts lost with their worker after which a job fails ({@code WORKER_LOST})
     */
    public record Retry(
            @DefaultValue("1s") Duration baseDelay,
            @DefaultValue("1h") Duration maxDelay,
            @DefaultValue("0.2") double jitter,
            @DefaultValue("7d") Duration maxRetryAfter,
            @DefaultValue("3") int maxLostAttempts) {

        public Retry {
            require(!baseDelay.isNegative(), "conveyor.api.retry.base-delay must not be negative");
            require(maxDelay.compareTo(baseDelay) >= 0, "conveyor.api.retry.max-delay must be >= base-delay");
            // read in milliseconds and added to now: far larger overflowed a long, or passed PostgreSQL's timestamps
            require(maxDelay.compareTo(Duration.ofDays(365)) <= 0, "conveyor.api.retry.max-delay must be at most "
                    + "365d");
            require(jitter >= 0 && jitter <= 1, "conveyor.api.retry.jitter must be between 0 and 1");
            require(!maxRetryAfter.isNegative() && maxRetryAfter.compareTo(Duration.ofDays(365)) <= 0,
                    "conveyor.api.retry.max-retry-after must be between 0 and 365d");
            // a worker refuses a dispatch whose attempt is further above maxAttempts than these allow, as no api's
            require(maxLostAttempts >= 1 && maxLostAttempts <= JobLimits.MAX_LOST_ATTEMPTS,
                    "conveyor.api.retry.max-lost-attempts must be from 1 to " + JobLimits.MAX_LOST_ATTEMPTS);
        }
    }

    /**
     * How long a job is kept once it ended, counted from when its end was recorded; then it is deleted, and its
     * idempotency key with it. {@code 0} keeps such jobs for ever.
     *
     * @param succeeded SUCCEEDED jobs
     * @param cancelled CANCELLED jobs
     * @param failed    FAILED jobs (which may be retried until then)
     * @param interval  how often each api instance deletes the jobs past their time
     */
    public record Retention(
            @DefaultValue("7d") Duration succeeded,
            @DefaultValue("7d") Duration cancelled,
            @DefaultValue("30d") Duration failed,
            @DefaultValue("1m") Duration interval) {

        public Retention {
            // the cleaner deletes what ended before now() minus these: PostgreSQL counts back some 6,700 years
            require(!succeeded.isNegative() && succeeded.compareTo(LONGEST) <= 0,
                    "conveyor.api.retention.succeeded must be from 0 to 36500d (0: for ever)");
            require(!cancelled.isNegative() && cancelled.compareTo(LONGEST) <= 0,
                    "conveyor.api.retention.cancelled must be from 0 to 36500d (0: for ever)");
            require(!failed.isNegative() && failed.compareTo(LONGEST) <= 0,
                    "conveyor.api.retention.failed must be from 0 to 36500d (0: for ever)");
            require(isLoopInterval(interval), "conveyor.api.retention.interval must be from 10ms to 1d");
        }
    }

    /** The longest retention or grace: a century, in nanoseconds, timestamps and intervals alike. */
    private static final Duration LONGEST = Duration.ofDays(36_500);

    private static final Pattern QUEUE_NAME = JobLimits.QUEUE;

    /**
     * How often a loop that queries the database may run: a nanosecond queried it back to back, holding a core and a
     * connection, and centuries overflowed the nanoseconds its waits are counted in.
     */
    private static boolean isLoopInterval(Duration interval) {
        return interval.compareTo(Duration.ofMillis(10)) >= 0 && interval.compareTo(Duration.ofDays(1)) <= 0;
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
