package dev.conveyor.api.submit;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.dispatch.ApiInstance;
import dev.conveyor.api.job.Job;
import dev.conveyor.api.job.JobRepository;
import dev.conveyor.common.Instants;
import dev.conveyor.common.JobStatus;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.IntStream;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.SqlArrayValue;
import org.springframework.stereotype.Repository;

/** Inserts many jobs with one statement, resolving idempotency keys that were used before. */
@Repository
class JobInserts {

    /**
     * Times are the database's: a job is created at its {@code now()}, due at that plus its delay (or at the
     * {@code runAt} its client gave), and leased until that plus the lease, since "due" and "leased" are decided by
     * the database's clock (the poller's claim). An api whose clock is off would otherwise store jobs due, and
     * leases ending, as far off as its clock is, and keep them so once its clock is right.
     */
    private static final String INSERT = """
            INSERT INTO jobs (id, tenant, type, queue, status, payload, max_attempts, initial_max_attempts, timeout_seconds,
                              idempotency_key, request_hash, created_at, run_at, updated_at, dispatch_lease_until,
                              dispatch_owner)
            SELECT id, tenant, type, queue, status, payload::jsonb, max_attempts, max_attempts, timeout_seconds,
                   idempotency_key, request_hash, now(), coalesce(run_at, now() + make_interval(secs => delay)), now(),
                   CASE WHEN leased THEN now() + make_interval(secs => :leaseSeconds) END,
                   CASE WHEN leased THEN :owner::bigint END
            FROM unnest(:ids::uuid[], :tenants::text[], :types::text[], :queues::text[], :statuses::text[], :payloads::text[],
                        :maxAttempts::int[], :timeouts::int[], :keys::text[], :hashes::text[],
                        :runAt::timestamptz[], :delays::float8[], :leased::bool[])
                 AS v(id, tenant, type, queue, status, payload, max_attempts, timeout_seconds, idempotency_key,
                      request_hash, run_at, delay, leased)
            ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            RETURNING id, created_at
            """;

    /**
     * The same for one job, with a parameter per column instead of a one-element array per column: a lone submission
     * (most of them at a moderate rate) then costs the api about 45 µs less CPU and PostgreSQL about 55 µs less
     * (docs/performance.md "A lone submission inserted without arrays").
     */
    private static final String INSERT_ONE = """
            INSERT INTO jobs (id, tenant, type, queue, status, payload, max_attempts, initial_max_attempts, timeout_seconds,
                              idempotency_key, request_hash, created_at, run_at, updated_at, dispatch_lease_until,
                              dispatch_owner)
            VALUES (:id, :tenant, :type, :queue, :status, :payload::jsonb, :maxAttempts, :maxAttempts, :timeout,
                    :key, :hash, now(), coalesce(:runAt::timestamptz, now() + make_interval(secs => :delay)), now(),
                    CASE WHEN :leased THEN now() + make_interval(secs => :leaseSeconds) END,
                    CASE WHEN :leased THEN :owner::bigint END)
            ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            RETURNING id, created_at
            """;

    private static final String BY_KEYS = "SELECT request_hash, tenant AS key_tenant, " + JobRepository.COLUMNS_SQL
            + " FROM jobs WHERE (tenant, idempotency_key) IN (SELECT * FROM unnest(:tenants::text[], :keys::text[]))";

    /** How many of the given (tenant, idempotency key) pairs have a job. */
    private static final String KEYS_STORED = """
            SELECT count(*) FROM jobs
            WHERE (tenant, idempotency_key) IN (SELECT * FROM unnest(:tenants::text[], :keys::text[]))""";

    /**
     * How many times a key freed between the insert and the read-back is tried again: once is all that retention can
     * cause (a job it deletes ended long ago), the others are for a key that each next insert finds taken again.
     */
    private static final int KEY_FREED_TRIES = 3;

    private final JdbcClient jdbc;
    private final ApiProperties properties;
    private final ApiInstance instance;

    JobInserts(JdbcClient jdbc, ApiProperties properties, ApiInstance instance) {
        this.jdbc = jdbc;
        this.properties = properties;
        this.instance = instance;
    }

    /**
     * Inserts the jobs (in the caller's transaction, if any: the insert is one statement) and answers an outcome per
     * job, in order. The due jobs of {@code leased} are inserted with this instance's dispatch lease, so that the
     * poller leaves them to this instance, which publishes them right after the commit or keeps them in its backlog
     * until their tenant's window has room; the other due jobs are left to the poller.
     */
    List<InsertOutcome> insert(List<NewJob> jobs, Set<UUID> leased) {
        return outcomes(jobs, insertRows(jobs, leased), leased);
    }

    /**
     * The insert alone: the ids of the jobs it stored (the others' keys were taken), and the database's time it
     * stored them at, one {@code now()} for the whole statement: read once, not from every row.
     */
    Stored insertRows(List<NewJob> jobs, Set<UUID> leased) {
        var ids = new HashSet<UUID>();
        var createdAt = new Instant[1];
        (jobs.size() == 1 ? insertOne(jobs.getFirst(), leased) : insertAll(jobs, leased))
                .query((rs, row) -> {
                    if (createdAt[0] == null) {
                        createdAt[0] = JobRepository.instant(rs.getTimestamp(2));
                    }
                    return ids.add(rs.getObject(1, UUID.class));
                })
                .list();
        return new Stored(ids, createdAt[0]);
    }

    /** The jobs an insert stored, and when, by the database's clock (null if it stored none). */
    record Stored(Set<UUID> ids, Instant createdAt) {
    }

    /**
     * An outcome per job, in order, given the ids {@link #insertRows} stored: the others are read back by their keys
     * (a second statement, which can fail on its own). A key whose earlier job is gone by then (the retention's
     * cleaner deleted it after the insert skipped the key) is free again: its job is inserted now, as it would have
     * been a moment later; a job stored so is answered as inserted.
     */
    List<InsertOutcome> outcomes(List<NewJob> jobs, Stored inserted, Set<UUID> leased) {
        var n = jobs.size();
        var outcomes = new ArrayList<InsertOutcome>(n);
        if (inserted.ids().size() == n) {
            for (var job : jobs) {
                outcomes.add(new InsertOutcome.Inserted(job.toJob(inserted.createdAt())));
            }
            return outcomes;
        }
        outcomes.addAll(Collections.nCopies(n, null));
        var unresolved = IntStream.range(0, n).boxed().toList();
        for (var tries = 0; ; tries++) {
            unresolved = resolve(jobs, unresolved, inserted, outcomes);
            if (unresolved.isEmpty()) {
                return outcomes;
            }
            if (tries == KEY_FREED_TRIES) {
                var job = jobs.get(unresolved.getFirst());
                throw new IllegalStateException("Job " + job.id() + " was neither inserted nor found by its key, "
                        + (tries + 1) + " times");
            }
            inserted = insertRows(unresolved.stream().map(jobs::get).toList(), leased);
        }
    }

    /**
     * Sets the outcomes of the jobs at {@code positions} that {@code inserted} stored or whose key has an earlier job;
     * answers the positions of the others, whose key was freed after the insert skipped it.
     */
    private List<Integer> resolve(List<NewJob> jobs, List<Integer> positions, Stored inserted,
            List<InsertOutcome> outcomes) {
        var skipped = positions.stream().map(jobs::get).filter(j -> !inserted.ids().contains(j.id())).toList();
        var existing = skipped.isEmpty() ? new HashMap<String, Existing>() : existingByKey(skipped);
        var freed = new ArrayList<Integer>();
        for (var i : positions) {
            var job = jobs.get(i);
            if (inserted.ids().contains(job.id())) {
                outcomes.set(i, new InsertOutcome.Inserted(job.toJob(inserted.createdAt())));
                continue;
            }
            var earlier = existing.get(keyOf(job.tenant(), job.idempotencyKey()));
            if (earlier == null) {
                freed.add(i);
            } else {
                outcomes.set(i, job.requestHash().matches(earlier.requestHash())
                        ? new InsertOutcome.Replayed(earlier.job())
                        : new InsertOutcome.KeyConflict(job.idempotencyKey(), earlier.job().id()));
            }
        }
        return freed;
    }

    private JdbcClient.StatementSpec insertOne(NewJob job, Set<UUID> leased) {
        return jdbc.sql(INSERT_ONE)
                .param("id", job.id())
                .param("tenant", job.tenant())
                .param("type", job.type())
                .param("queue", job.queue())
                .param("status", job.status().name())
                .param("payload", job.payload())
                .param("maxAttempts", job.maxAttempts())
                .param("timeout", job.timeoutSeconds())
                .param("key", job.idempotencyKey(), Types.VARCHAR)
                .param("hash", job.requestHash() == null ? null : job.requestHash().stored(), Types.VARCHAR)
                .param("runAt", job.runAtGiven() ? Instants.format(job.runAt()) : null, Types.VARCHAR)
                .param("delay", job.delaySeconds())
                .param("leased", leased(job, leased))
                .param("leaseSeconds", leaseSeconds())
                .param("owner", instance.id());
    }

    private JdbcClient.StatementSpec insertAll(List<NewJob> jobs, Set<UUID> leased) {
        var n = jobs.size();
        var ids = new UUID[n];
        var tenants = new String[n];
        var types = new String[n];
        var queues = new String[n];
        var statuses = new String[n];
        var payloads = new String[n];
        var maxAttempts = new Integer[n];
        var timeouts = new Integer[n];
        var keys = new String[n];
        var hashes = new String[n];
        var runAt = new String[n];
        var delays = new Double[n];
        var leases = new Boolean[n];
        for (var i = 0; i < n; i++) {
            var job = jobs.get(i);
            ids[i] = job.id();
            tenants[i] = job.tenant();
            types[i] = job.type();
            queues[i] = job.queue();
            statuses[i] = job.status().name();
            payloads[i] = job.payload();
            maxAttempts[i] = job.maxAttempts();
            timeouts[i] = job.timeoutSeconds();
            keys[i] = job.idempotencyKey();
            hashes[i] = job.requestHash() == null ? null : job.requestHash().stored();
            runAt[i] = job.runAtGiven() ? Instants.format(job.runAt()) : null;
            delays[i] = job.delaySeconds();
            leases[i] = leased(job, leased);
        }
        return jdbc.sql(INSERT)
                .param("ids", new SqlArrayValue("uuid", (Object[]) ids))
                .param("tenants", new SqlArrayValue("text", (Object[]) tenants))
                .param("types", new SqlArrayValue("text", (Object[]) types))
                .param("queues", new SqlArrayValue("text", (Object[]) queues))
                .param("statuses", new SqlArrayValue("text", (Object[]) statuses))
                .param("payloads", new SqlArrayValue("text", (Object[]) payloads))
                .param("maxAttempts", new SqlArrayValue("int4", (Object[]) maxAttempts))
                .param("timeouts", new SqlArrayValue("int4", (Object[]) timeouts))
                .param("keys", new SqlArrayValue("text", (Object[]) keys))
                .param("hashes", new SqlArrayValue("text", (Object[]) hashes))
                .param("runAt", new SqlArrayValue("text", (Object[]) runAt))
                .param("delays", new SqlArrayValue("float8", (Object[]) delays))
                .param("leased", new SqlArrayValue("bool", (Object[]) leases))
                .param("leaseSeconds", leaseSeconds())
                .param("owner", instance.id());
    }

    /** Whether the job is stored with this instance's dispatch lease (see {@link #insert}). */
    private static boolean leased(NewJob job, Set<UUID> leased) {
        return job.status() == JobStatus.QUEUED && leased.contains(job.id());
    }

    private double leaseSeconds() {
        return properties.dispatch().lease().toMillis() / 1000.0;
    }

    /**
     * How many of the jobs an insert would store now: those without an idempotency key, and one per key not used
     * before (a key given twice in a batch stores one job at most).
     */
    int unstored(List<NewJob> jobs) {
        var keys = new LinkedHashMap<String, NewJob>();
        var unkeyed = 0;
        for (var job : jobs) {
            if (job.idempotencyKey() == null) {
                unkeyed++;
            } else {
                keys.putIfAbsent(keyOf(job.tenant(), job.idempotencyKey()), job);
            }
        }
        if (keys.isEmpty()) {
            return unkeyed;
        }
        var stored = jdbc.sql(KEYS_STORED)
                .param("tenants", new SqlArrayValue("text", keys.values().stream().map(NewJob::tenant).toArray()))
                .param("keys", new SqlArrayValue("text", keys.values().stream().map(NewJob::idempotencyKey).toArray()))
                .query(Long.class).single();
        return unkeyed + keys.size() - stored.intValue();
    }

    private HashMap<String, Existing> existingByKey(List<NewJob> replays) {
        var tenants = replays.stream().map(NewJob::tenant).toArray();
        var keys = replays.stream().map(NewJob::idempotencyKey).toArray();
        var found = new HashMap<String, Existing>();
        jdbc.sql(BY_KEYS).param("tenants", new SqlArrayValue("text", tenants))
                .param("keys", new SqlArrayValue("text", keys))
                .query((rs, row) -> new Existing(rs.getString("key_tenant"), rs.getString("request_hash"),
                        JobRepository.JOB.mapRow(rs, row)))
                .list()
                .forEach(e -> found.put(keyOf(e.tenant(), e.job().idempotencyKey()), e));
        return found;
    }

    /** Idempotency keys are per tenant; tenant names hold no NUL. */
    private static String keyOf(String tenant, String idempotencyKey) {
        return tenant + '\u0000' + idempotencyKey;
    }

    private record Existing(String tenant, String requestHash, Job job) {
    }
}
