package dev.conveyor.api.dispatch;

import dev.conveyor.api.TaskFailures;
import dev.conveyor.common.Threads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Records that jobs are on Kafka, many per statement, on a thread of its own. A mark that is not written costs a
 * second record (the poller publishes the job again after its lease), so a batch the database refuses is kept and
 * tried again, and a stop writes what still waits; memory and the wait at shutdown are bounded.
 *
 * <p>A mark waits {@code delay} before it is written, and is dropped if meanwhile this api reads a worker's event
 * of that attempt ({@link #settled}): the job has left QUEUED (or will once the event is applied), so neither the
 * poller nor the {@link RecordReconciler} needs its mark. Most jobs run within the delay, and then cost one row
 * update fewer. The delay must stay well below the dispatch lease, or the poller would publish them again.
 */
@Component
class DispatchMarks implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(DispatchMarks.class);
    static final int BATCH = 1000;

    /** Writes one batch of marks, or throws. */
    interface Writer {
        void write(List<DispatchMark> marks);
    }

    /**
     * @param capacity      most marks waiting to be written; more are dropped
     * @param firstBackoff  wait after a batch failed once
     * @param maxBackoff    longest wait between tries of a failing batch
     * @param shutdownWait  how long a stop may take to write the marks still waiting
     */
    record Limits(int capacity, Duration firstBackoff, Duration maxBackoff, Duration shutdownWait, Duration delay) {

        static final Limits DEFAULTS = new Limits(100_000, Duration.ofMillis(100), Duration.ofSeconds(5),
                Duration.ofSeconds(5), Duration.ofSeconds(1));

        Limits(int capacity, Duration firstBackoff, Duration maxBackoff, Duration shutdownWait) {
            this(capacity, firstBackoff, maxBackoff, shutdownWait, Duration.ZERO);
        }
    }

    /** A mark and when it is due to be written. */
    private record Waiting(DispatchMark mark, long dueNanos) {
    }

    private final Writer writer;
    private final TaskFailures writes = new TaskFailures(log, "Recording dispatched jobs",
            "their marks wait in memory (jobs whose lease runs out meanwhile are published again)");
    private final Limits limits;
    private final BlockingQueue<Waiting> marks;
    /** The latest mark of each job not written yet; a mark gone from here (settled, or replaced) is not written. */
    private final ConcurrentHashMap<UUID, DispatchMark> unwritten = new ConcurrentHashMap<>();
    /** Taken from the queue by the flusher, not due yet. */
    private Waiting held;
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean running;
    private volatile long stopDeadline;
    private Thread flusher;

    @Autowired
    DispatchMarks(Writer writer) {
        this(writer, Limits.DEFAULTS);
    }

    DispatchMarks(Writer writer, Limits limits) {
        this.writer = writer;
        this.limits = limits;
        this.marks = new LinkedBlockingQueue<>(limits.capacity());
    }

    /**
     * Records that the job's attempt is on Kafka, in the record at {@code partition} and {@code offset}. Never
     * blocks: with {@code capacity} marks already waiting (the database has been away a while) the mark is dropped.
     * A mark of a generation or attempt before one waiting is dropped too, and leaves that one to be written: a
     * record of a job cancelled and retried, published late (from a backlog that had not heard of the cancel), would
     * otherwise take the place of the retry's mark, and the retry, unmarked, be published again after its lease.
     */
    void add(UUID id, int generation, int attempts, int partition, long offset) {
        add(id, generation, attempts, 0, partition, offset);
    }

    /** As {@link #add(UUID, int, int, int, long)}, for a dispatch after {@code handBacks} hand-backs. */
    void add(UUID id, int generation, int attempts, int handBacks, int partition, long offset) {
        var mark = new DispatchMark(id, generation, attempts, handBacks, partition, offset);
        if (unwritten.merge(id, mark, (waiting, added) -> isBefore(added, waiting) ? waiting : added) != mark) {
            return;
        }
        if (!marks.offer(new Waiting(mark, System.nanoTime() + limits.delay().toNanos()))) {
            unwritten.remove(id, mark);
            dropped.incrementAndGet();
        }
    }

    private static boolean isBefore(DispatchMark mark, DispatchMark other) {
        return mark.generation() != other.generation() ? mark.generation() < other.generation()
                : mark.attempts() != other.attempts() ? mark.attempts() < other.attempts()
                : mark.handBacks() < other.handBacks();
    }

    /**
     * A worker reported on attempt {@code attempt} of the job's generation {@code generation} (it started it, or ended
     * it): the marks of that attempt and earlier ones of that generation, and those of earlier generations, need not
     * be written. An event of an earlier generation (a record of the job from before an operator's cancel and retry,
     * run late) leaves the mark of the later one: without it the poller would publish the job again. A hand-back
     * ({@code handBacks} not null: the worker gave the dispatch of that count back unstarted) settles the marks of
     * that dispatch and earlier ones only, not the mark of the attempt's dispatch after it.
     */
    void settled(UUID id, int generation, int attempt, Integer handBacks) {
        unwritten.computeIfPresent(id, (key, mark) -> generation > mark.generation()
                || generation == mark.generation() && (mark.attempts() < attempt - 1
                        || mark.attempts() == attempt - 1 && (handBacks == null || mark.handBacks() <= handBacks))
                ? null : mark);
    }

    /** As {@link #settled(UUID, int, int, Integer)} for a start or an end of a run. */
    void settled(UUID id, int generation, int attempt) {
        settled(id, generation, attempt, null);
    }

    /**
     * Writes waiting marks a batch at a time. A batch that fails is kept and tried again, with a backoff that
     * doubles up to {@code maxBackoff}, together with marks added meanwhile (up to {@link #BATCH}). After a stop it
     * goes on until nothing waits or {@code shutdownWait} has passed.
     */
    private void flushLoop() {
        var batch = new ArrayList<DispatchMark>();
        var failures = 0;
        try {
            while (!(stopping() && (batch.isEmpty() && marks.isEmpty() && held == null || pastShutdownWait()))) {
                if (batch.isEmpty()) {
                    takeDue(batch);
                    if (batch.isEmpty()) {
                        continue;
                    }
                }
                reportDropped();
                try {
                    writer.write(batch);
                    batch.clear();
                    failures = 0;
                    writes.worked();
                } catch (RuntimeException e) {
                    failures++;
                    writes.failed(e);
                    pause(backoff(failures));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        var left = batch.size() + marks.size() + (held == null ? 0 : 1);
        if (left > 0) {
            log.warn("Stopped with {} dispatch marks unwritten; the poller publishes those jobs again after their "
                    + "lease (a second record, not a lost job)", left);
        }
    }

    /**
     * Moves up to a batch of due marks (all waiting marks once stopping) into {@code batch}, leaving out those
     * settled or replaced meanwhile; waits up to 100 ms for the first one to fall due.
     */
    private void takeDue(List<DispatchMark> batch) throws InterruptedException {
        var waitUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
        while (batch.size() < BATCH) {
            var next = held != null ? held : marks.poll();
            held = null;
            if (next == null) {
                if (!batch.isEmpty() || stopping()) {
                    return;
                }
                next = marks.poll(Math.max(0, waitUntil - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (next == null) {
                    return;
                }
            }
            var early = next.dueNanos() - System.nanoTime();
            if (early > 0 && !stopping()) {
                held = next; // marks fall due in the order they came: nothing behind it is due either
                if (!batch.isEmpty() || System.nanoTime() - waitUntil > 0) {
                    return;
                }
                LockSupport.parkNanos(Math.min(early, Math.max(1, waitUntil - System.nanoTime())));
                continue;
            }
            take(next, batch);
        }
    }

    private void take(Waiting waiting, List<DispatchMark> batch) {
        var mark = waiting.mark();
        if (unwritten.remove(mark.id(), mark)) {
            batch.add(mark);
        }
    }

    private Duration backoff(int failures) {
        var backoff = limits.firstBackoff().multipliedBy(1L << Math.min(failures - 1, 20));
        return backoff.compareTo(limits.maxBackoff()) > 0 ? limits.maxBackoff() : backoff;
    }

    /** Waits, but not past the shutdown deadline; a stop cuts the wait short. */
    private void pause(Duration backoff) {
        var nanos = backoff.toNanos();
        if (stopping()) {
            nanos = Math.min(nanos, stopDeadline - System.nanoTime());
        }
        if (nanos > 0) {
            LockSupport.parkNanos(nanos);
        }
    }

    private void reportDropped() {
        var count = dropped.getAndSet(0);
        if (count > 0) {
            log.warn("Dropped {} dispatch marks: {} were already waiting for the database; the poller publishes "
                    + "those jobs again after their lease (a second record, not a lost job)", count,
                    limits.capacity());
        }
    }

    private boolean stopping() {
        return !running;
    }

    private boolean pastShutdownWait() {
        return System.nanoTime() - stopDeadline > 0;
    }

    @Override
    public void start() {
        running = true;
        flusher = Thread.ofVirtual().name("dispatch-marks").start(this::flushLoop);
    }

    /** Writes the marks still waiting, for at most {@code shutdownWait}. */
    @Override
    public void stop() {
        stopDeadline = System.nanoTime() + limits.shutdownWait().toNanos();
        running = false;
        LockSupport.unpark(flusher);
        Threads.joinOrInterrupt(flusher, limits.shutdownWait().plusSeconds(1));
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Stops after the dispatcher, so the marks of its last publications are written. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 16384;
    }
}
