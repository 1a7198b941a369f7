package dev.conveyor.api.submit;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.dispatch.Backlog;
import dev.conveyor.api.dispatch.Dispatcher;
import dev.conveyor.api.dispatch.TenantWindows;
import dev.conveyor.api.metrics.JobMetrics;
import dev.conveyor.api.tracing.JobTracing;
import dev.conveyor.api.wakeup.JobWaiters;
import dev.conveyor.api.web.ApiException;
import dev.conveyor.api.web.FieldError;
import dev.conveyor.api.web.StoreUnavailableException;
import dev.conveyor.common.JobStatus;
import dev.conveyor.common.Threads;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Set;
import java.util.UUID;
import java.util.List;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Makes submissions durable. Concurrent single submissions are coalesced: a few writer threads each take
 * whatever is waiting (up to a batch) and insert it with one statement (its own transaction), so a burst of
 * requests costs a handful of round trips instead of one each, and a lone request waits for no timer. A request
 * that finds no write in progress writes itself (with whatever waits), on its own thread: no hand-off to a writer
 * and back. Due jobs are handed to the dispatcher right after the commit.
 */
@Component
class JobSubmitter implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(JobSubmitter.class);

    private final JobInserts inserts;
    private final TransactionTemplate transaction;
    private final Dispatcher dispatcher;
    private final ApiProperties properties;
    private final JobMetrics jobMetrics;
    private final JobTracing tracing;
    private final TenantWindows windows;
    private final Backlog backlog;
    private final JobWaiters waiters;
    private final DistributionSummary insertBatches;
    private final BlockingDeque<Pending> pending = new LinkedBlockingDeque<>();
    private final List<Thread> writers = new ArrayList<>();
    /** Writes in progress, by the writer threads or by requests: at most {@code insert-writers} at once. */
    private final Semaphore writing;
    private volatile boolean running;

    JobSubmitter(JobInserts inserts, TransactionTemplate transaction, Dispatcher dispatcher,
            ApiProperties properties, MeterRegistry meters, JobMetrics jobMetrics, JobTracing tracing,
            TenantWindows windows, Backlog backlog, JobWaiters waiters) {
        this.windows = windows;
        this.backlog = backlog;
        this.waiters = waiters;
        this.inserts = inserts;
        this.transaction = transaction;
        this.dispatcher = dispatcher;
        this.properties = properties;
        this.jobMetrics = jobMetrics;
        this.tracing = tracing;
        this.writing = new Semaphore(properties.insertWriters());
        this.insertBatches = DistributionSummary.builder("conveyor.jobs.insert.batch")
                .description("jobs written per insert statement").register(meters);
        Gauge.builder("conveyor.jobs.insert.waiting", pending, BlockingQueue::size)
                .description("submissions waiting for a writer").register(meters);
    }

    /** How many of the jobs would be stored now: not those whose idempotency key was used before. */
    int unstored(List<NewJob> jobs) {
        return inserts.unstored(jobs);
    }

    /** Stores one job, together with whatever other submissions are waiting. Blocks until committed. */
    InsertOutcome submit(NewJob job) {
        if (!running) {
            throw new StoreUnavailableException("The api is shutting down", null);
        }
        tracing.submitted(job.id());
        // before the insert: the job cannot end before the waiters know it was submitted
        waiters.submitting(job.id(), job.tenant());
        try {
            var outcome = store(job);
            if (!(outcome instanceof InsertOutcome.Inserted)) {
                waiters.notStored(job.id());
            }
            return outcome;
        } catch (RuntimeException e) {
            waiters.notStored(job.id());
            throw e;
        }
    }

    private InsertOutcome store(NewJob job) {
        var outcome = new CompletableFuture<InsertOutcome>();
        var mine = new Pending(job, outcome);
        var queued = !writing.tryAcquire();
        if (queued) {
            pending.add(mine);
        } else {
            // No write in progress: write on this thread, sparing the hand-off to a writer and back. What waits in
            // the queue meanwhile is the writer threads' (they take it as this write ends).
            try {
                var batch = new ArrayList<Pending>();
                batch.add(mine);
                pending.drainTo(batch, properties.insertBatchSize() - 1);
                writeAnswering(batch);
            } finally {
                writing.release();
            }
        }
        try {
            if (queued) {
                try {
                    return outcome.get(properties.insertWait().toNanos(), TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    // Not taken by a writer yet (the writers are held up: a database that stopped answering): the
                    // submission leaves the queue and nothing of it is stored. Once a writer has it, it waits on.
                    if (pending.remove(mine)) {
                        throw new StoreUnavailableException("No writer took the job within "
                                + properties.insertWait().toMillis() + " ms", null);
                    }
                }
            }
            return outcome.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("Interrupted while storing the job", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new StoreUnavailableException(e.getCause().getMessage(), e.getCause());
        }
    }

    /**
     * Stores all jobs or none: a key used before for a different request rolls the whole batch back, and so does
     * a job the store refuses (a 400 naming the item).
     */
    List<InsertOutcome> submitAll(List<NewJob> jobs) {
        jobs.forEach(job -> tracing.submitted(job.id()));
        var reserved = reserve(jobs);
        List<InsertOutcome> outcomes;
        try {
            outcomes = transaction.execute(status -> {
                var result = inserts.insert(jobs, reserved.leased());
                for (var i = 0; i < result.size(); i++) {
                    if (result.get(i) instanceof InsertOutcome.KeyConflict conflict) {
                        throw keyConflict(jobs, i, conflict);
                    }
                }
                return result;
            });
        } catch (ApiException e) {
            unreserve(jobs, reserved);
            throw e;
        } catch (RuntimeException e) {
            unreserve(jobs, reserved);
            throw batchFailure(jobs, e);
        }
        // Committed: whatever happens on the way to Kafka now, the request has stored its jobs and says so.
        dispatchNew(jobs, outcomes, reserved);
        return outcomes;
    }

    /**
     * The 409 of a batch whose item {@code index} reuses a key. The job it conflicts with may be another item of the
     * same batch, which the rollback never lets exist: then the answer names that item, not its id.
     */
    private static ApiException keyConflict(List<NewJob> jobs, int index, InsertOutcome.KeyConflict conflict) {
        var key = "jobs[" + index + "]: idempotency key '" + conflict.idempotencyKey() + "'";
        for (var i = 0; i < jobs.size(); i++) {
            if (jobs.get(i).id().equals(conflict.existingId())) {
                return ApiException.conflict("idempotency-conflict", "Idempotency key reused", key
                        + " is also the key of jobs[" + i + "], a different request; nothing was stored");
            }
        }
        return ApiException.conflict("idempotency-conflict", "Idempotency key reused", key
                + " was used before for a different request (job " + conflict.existingId() + "); nothing was stored");
    }

    /** Why a batch failed: the store is unavailable (503), or it refuses items, which are named (400). */
    private RuntimeException batchFailure(List<NewJob> jobs, RuntimeException failure) {
        if (StoreFailures.classify(failure) == StoreFailures.Kind.UNAVAILABLE) {
            return new StoreUnavailableException("The job store is unavailable", failure);
        }
        var refused = new ArrayList<FieldError>();
        var other = findRefused(jobs, 0, refused);
        if (other != null) {
            return other;
        }
        if (refused.isEmpty()) {
            return failure;
        }
        log.info("The job store refused {} of a batch of {} jobs: {}", refused.size(), jobs.size(),
                refused.getFirst().message());
        return ApiException.invalid(refused);
    }

    /**
     * Tries the jobs in halves, each in a transaction that is rolled back, naming every one the store refuses
     * alone. Answers a failure that is not a refusal, if one happens, so that the caller reports it as it is.
     */
    private RuntimeException findRefused(List<NewJob> jobs, int offset, List<FieldError> refused) {
        try {
            transaction.executeWithoutResult(status -> {
                inserts.insert(jobs, Set.of());
                status.setRollbackOnly();
            });
            return null;
        } catch (RuntimeException e) {
            var kind = StoreFailures.classify(e);
            if (kind == StoreFailures.Kind.UNAVAILABLE) {
                return new StoreUnavailableException("The job store is unavailable", e);
            }
            if (jobs.size() == 1) {
                if (kind != StoreFailures.Kind.REFUSED) {
                    return e;
                }
                refused.add(new FieldError("jobs[" + offset + "]", refusal(e)));
                return null;
            }
            var half = jobs.size() / 2;
            var other = findRefused(jobs.subList(0, half), offset, refused);
            return other != null ? other : findRefused(jobs.subList(half, jobs.size()), offset + half, refused);
        }
    }

    private void writeLoop() {
        var batch = new ArrayList<Pending>();
        while (running || !pending.isEmpty()) {
            Pending first;
            try {
                first = pending.pollFirst(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (first == null) {
                continue;
            }
            if (!writing.tryAcquire()) {
                // A request is writing: the submission waits in the queue, not in this thread's hand, for whoever
                // writes next (this thread, or a request that finds no write in progress).
                pending.addFirst(first);
                writing.acquireUninterruptibly();
                first = pending.pollFirst();
                if (first == null) {
                    writing.release();
                    continue;
                }
            }
            try {
                batch.add(first);
                pending.drainTo(batch, properties.insertBatchSize() - 1);
                writeAnswering(batch);
            } finally {
                writing.release();
                batch.clear();
            }
        }
    }

    /**
     * Writes the batch; whatever goes wrong that {@link #write} does not expect still answers every submission in
     * it (the others' requests wait on this thread's outcome, without a timeout) and leaves the writer loop running:
     * an error too, such as an {@code OutOfMemoryError} that another request's allocation caused (answered, the
     * submissions have not all been stored, and those that were are published by the poller).
     */
    private void writeAnswering(List<Pending> batch) {
        try {
            write(batch);
        } catch (RuntimeException | Error e) {
            log.error("Could not write {} submitted jobs", batch.size(), e);
            var failure = new StoreUnavailableException("Storing the job failed unexpectedly", e);
            batch.forEach(p -> p.outcome().completeExceptionally(failure));
        }
    }

    private void write(List<Pending> batch) {
        var jobs = batch.stream().map(Pending::job).toList();
        var reserved = reserve(jobs);
        JobInserts.Stored inserted;
        try {
            // No transaction: the insert is one statement, atomic on its own, and a key it skips is read after it
            // (as in a transaction, which reads under a new snapshot at each statement). Without BEGIN and COMMIT
            // a lone submission costs one round trip to PostgreSQL, not two.
            inserted = inserts.insertRows(jobs, reserved.leased());
        } catch (RuntimeException e) {
            unreserve(jobs, reserved);
            failed(batch, e);
            return;
        }
        List<InsertOutcome> outcomes;
        try {
            outcomes = inserts.outcomes(jobs, inserted, reserved.leased());
        } catch (RuntimeException e) {
            storedButNotReadBack(batch, reserved, inserted, e);
            return;
        }
        for (var i = 0; i < batch.size(); i++) {
            batch.get(i).outcome().complete(outcomes.get(i));
        }
        dispatchNew(jobs, outcomes, reserved);
    }

    /**
     * The insert committed but the jobs it skipped for their keys could not be read back: the stored jobs are
     * answered as stored (a 503 would tell their clients that nothing was, and a client without a key would send
     * its job again), and only the replays get the 503, their earlier jobs unread. (A replay whose key was freed
     * meanwhile may have been stored by a later insert before the failure: it has a key, so its client's retry
     * answers it, and the poller publishes it when its lease ends.)
     */
    private void storedButNotReadBack(List<Pending> batch, Reserved reserved, JobInserts.Stored inserted,
            RuntimeException failure) {
        log.warn("Stored {} of {} submitted jobs, but could not read back the others by their keys: {}",
                inserted.ids().size(), batch.size(), StoreFailures.reason(failure));
        var unavailable = new StoreUnavailableException("The job store is unavailable", failure);
        var stored = new ArrayList<NewJob>();
        var outcomes = new ArrayList<InsertOutcome>();
        var others = new ArrayList<NewJob>();
        for (var pending : batch) {
            if (inserted.ids().contains(pending.job().id())) {
                var outcome = new InsertOutcome.Inserted(pending.job().toJob(inserted.createdAt()));
                stored.add(pending.job());
                outcomes.add(outcome);
                pending.outcome().complete(outcome);
            } else {
                others.add(pending.job());
                pending.outcome().completeExceptionally(unavailable);
            }
        }
        unreserve(others, reserved);
        dispatchNew(stored, outcomes, reserved);
    }

    /**
     * One row the store refuses fails the statement for all the submissions coalesced into it. Those are not
     * the other clients' fault: unless the store is unavailable, insert the halves again, down to the one at
     * fault, which alone gets the error (a 400 when the store refused its data).
     */
    private void failed(List<Pending> batch, RuntimeException failure) {
        var kind = StoreFailures.classify(failure);
        if (kind == StoreFailures.Kind.UNAVAILABLE) {
            log.warn("Could not store {} submitted jobs: {}", batch.size(), StoreFailures.reason(failure));
            var unavailable = new StoreUnavailableException("The job store is unavailable", failure);
            batch.forEach(p -> p.outcome().completeExceptionally(unavailable));
        } else if (batch.size() == 1) {
            log.info("The job store refused submitted job {}: {}", batch.getFirst().job().id(),
                    StoreFailures.reason(failure));
            batch.getFirst().outcome().completeExceptionally(kind == StoreFailures.Kind.REFUSED
                    ? ApiException.invalid("body", refusal(failure)) : failure);
        } else {
            var half = batch.size() / 2;
            write(batch.subList(0, half));
            write(batch.subList(half, batch.size()));
        }
    }

    private static String refusal(RuntimeException failure) {
        return "could not be stored: " + StoreFailures.reason(failure);
    }

    /**
     * Where each due job goes after the commit: {@code publishing}, published at once in a slot of its tenant's
     * window; {@code keeping}, past the window, kept in this instance's {@link Backlog} until the window has room.
     * Both are stored with this instance's lease, which began at {@code takenAt} or later; the due jobs in neither
     * are stored without one, for the poller.
     */
    private record Reserved(Set<UUID> publishing, Set<UUID> keeping, long takenAt) {

        Set<UUID> leased() {
            if (keeping.isEmpty()) {
                return publishing;
            }
            var leased = new HashSet<UUID>(publishing);
            leased.addAll(keeping);
            return leased;
        }
    }

    /**
     * Takes a slot of its tenant's window for each due job it can (see {@link TenantWindows}), and a place in the
     * backlog for each due job beyond them.
     */
    private Reserved reserve(List<NewJob> jobs) {
        var due = new LinkedHashMap<List<String>, List<UUID>>();
        for (var job : jobs) {
            if (job.status() == JobStatus.QUEUED) {
                due.computeIfAbsent(List.of(job.queue(), job.tenant()), pair -> new ArrayList<>()).add(job.id());
            }
        }
        var publishing = new HashSet<UUID>();
        var keeping = new HashSet<UUID>();
        due.forEach((pair, ids) -> {
            var granted = windows.reserve(pair.get(0), pair.get(1), ids.size());
            publishing.addAll(ids.subList(0, granted));
            if (granted < ids.size()) {
                var kept = backlog.reserve(ids.size() - granted);
                keeping.addAll(ids.subList(granted, granted + kept));
            }
        });
        return new Reserved(publishing, keeping, keeping.isEmpty() ? System.nanoTime() : leasedAt(jobs));
    }

    /**
     * When the leases about to be written began, by {@link System#nanoTime()}: each lease runs from its job's
     * {@code createdAt} (when its request was read), which may be a while before this write (a request queued for a
     * writer). A kept job must be published early enough for its send to end before its lease does.
     */
    private static long leasedAt(List<NewJob> jobs) {
        var oldest = jobs.getFirst().createdAt();
        for (var job : jobs) {
            if (job.createdAt().isBefore(oldest)) {
                oldest = job.createdAt();
            }
        }
        return System.nanoTime() - Math.max(0, Duration.between(oldest, Instant.now()).toNanos());
    }

    /**
     * Publishes the jobs inserted in a slot of their window and hands the backlog those kept for later; gives back
     * the slots and places of the others (found stored before by their idempotency key). Called after the commit, so
     * it never throws: a job it cannot hand over stays stored with this instance's lease, which the poller takes over
     * when it ends (at once if this instance dies), and its slot or place is given back.
     */
    private void dispatchNew(List<NewJob> jobs, List<InsertOutcome> outcomes, Reserved reserved) {
        var due = new ArrayList<Dispatcher.Item>();
        var handled = 0;
        try {
            for (; handled < jobs.size(); handled++) {
                var job = jobs.get(handled);
                var publishing = reserved.publishing().contains(job.id());
                if (!publishing && !reserved.keeping().contains(job.id())) {
                    continue;
                }
                if (outcomes.get(handled) instanceof InsertOutcome.Inserted(var inserted)) {
                    var item = Dispatcher.Item.of(inserted, job.tenant(), 0);
                    if (publishing) {
                        windows.hold(job.id(), job.queue(), job.tenant());
                        due.add(item);
                    } else {
                        backlog.keep(job.queue(), job.tenant(), item, reserved.takenAt(), job.payloadBytes());
                    }
                } else if (publishing) {
                    windows.unreserve(job.queue(), job.tenant(), 1);
                } else {
                    backlog.unreserve(1);
                }
            }
        } catch (RuntimeException e) {
            notHandedOver(jobs.size() - handled, e);
            unreserve(jobs.subList(handled + 1, jobs.size()), reserved);
        }
        if (!due.isEmpty()) {
            try {
                dispatcher.publish(due);
            } catch (RuntimeException e) {
                notHandedOver(due.size(), e);
                due.forEach(item -> windows.settled(item.id()));
            }
        }
        insertBatches.record(outcomes.size());
        outcomes.forEach(this::countSubmitted);
    }

    private static void notHandedOver(int jobs, RuntimeException failure) {
        log.warn("Could not hand {} stored jobs to the dispatcher (the poller publishes them when their lease ends): "
                + "{}", jobs, failure.toString());
    }

    /** Gives back the window slots and backlog places reserved for {@code jobs}: not stored, or not handed over. */
    private void unreserve(List<NewJob> jobs, Reserved reserved) {
        for (var job : jobs) {
            if (reserved.publishing().contains(job.id())) {
                windows.unreserve(job.queue(), job.tenant(), 1);
            } else if (reserved.keeping().contains(job.id())) {
                backlog.unreserve(1);
            }
        }
    }

    private void countSubmitted(InsertOutcome outcome) {
        if (outcome instanceof InsertOutcome.Inserted(var job)) {
            jobMetrics.submitted(job.queue(), job.type());
        }
    }

    @Override
    public void start() {
        running = true;
        for (var i = 0; i < properties.insertWriters(); i++) {
            var writer = Thread.ofVirtual().name("job-writer-" + i).start(this::writeLoop);
            writers.add(writer);
        }
    }

    @Override
    public void stop() {
        // Interrupt only as a last resort: in socket I/O it closes the database connection under the writer.
        running = false;
        writers.forEach(writer -> Threads.joinOrInterrupt(writer, Duration.ofSeconds(10)));
        writers.clear();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Stop after the web server has stopped taking requests, so that every accepted request is written. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 4096;
    }

    private record Pending(NewJob job, CompletableFuture<InsertOutcome> outcome) {
    }
}
