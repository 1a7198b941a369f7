package dev.conveyor.api.dispatch;

import dev.conveyor.common.Threads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/** Records that jobs are on Kafka, many per statement, on a thread of its own. */
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
    record Limits(int capacity, Duration firstBackoff, Duration maxBackoff, Duration shutdownWait) {

        static final Limits DEFAULTS = new Limits(100_000, Duration.ofMillis(100), Duration.ofSeconds(5),
                Duration.ofSeconds(5));
    }

    private final Writer writer;
    private final Limits limits;
    private final BlockingQueue<DispatchMark> marks;
    private volatile boolean running;
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

    /** Records that the job's attempt is on Kafka, in the record at {@code partition} and {@code offset}. */
    void add(UUID id, int attempts, int partition, long offset) {
        marks.offer(new DispatchMark(id, attempts, partition, offset));
    }

    private void flushLoop() {
        var batch = new ArrayList<DispatchMark>();
        while (running || !marks.isEmpty()) {
            try {
                var first = marks.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            marks.drainTo(batch, BATCH - 1);
            try {
                writer.write(batch);
            } catch (RuntimeException e) {
                // Unmarked jobs are published again by the poller after their lease: a duplicate, not a loss.
                log.warn("Could not record {} dispatched jobs: {}", batch.size(), e.getMessage());
            }
            batch.clear();
        }
    }

    @Override
    public void start() {
        running = true;
        flusher = Thread.ofVirtual().name("dispatch-marks").start(this::flushLoop);
    }

    @Override
    public void stop() {
        running = false;
        Threads.joinOrInterrupt(flusher, limits.shutdownWait());
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
