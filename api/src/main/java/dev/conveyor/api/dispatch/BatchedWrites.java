package dev.conveyor.api.dispatch;

import dev.conveyor.common.Threads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Items written to the database in batches of up to {@code batchSize} by a virtual thread of its own, so that the
 * threads that hand them over (the producer's, among others) never wait on the database. Best effort: a batch whose
 * write fails is reported to {@code failed} and dropped. Items handed over before {@link #stop()} are still written.
 */
final class BatchedWrites<T> {

    private final String name;
    private final int batchSize;
    private final Consumer<List<T>> write;
    private final BiConsumer<Integer, RuntimeException> failed;
    private final BlockingQueue<T> pending = new LinkedBlockingQueue<>();
    private volatile boolean running;
    private Thread writer;

    /** {@code failed} gets the size of the batch that could not be written, and why. */
    BatchedWrites(String name, int batchSize, Consumer<List<T>> write, BiConsumer<Integer, RuntimeException> failed) {
        this.name = name;
        this.batchSize = batchSize;
        this.write = write;
        this.failed = failed;
    }

    /** Never blocks. */
    void add(T item) {
        pending.add(item);
    }

    /** Never blocks. */
    void addAll(Collection<T> items) {
        pending.addAll(items);
    }

    void start() {
        running = true;
        writer = Thread.ofVirtual().name(name).start(this::writeLoop);
    }

    /** Writes what was handed over until now, waiting at most 5 s for it. */
    void stop() {
        running = false;
        Threads.joinOrInterrupt(writer, Duration.ofSeconds(5));
    }

    boolean isRunning() {
        return running;
    }

    private void writeLoop() {
        var batch = new ArrayList<T>();
        while (running || !pending.isEmpty()) {
            try {
                var first = pending.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            pending.drainTo(batch, batchSize - 1);
            try {
                write.accept(batch);
            } catch (RuntimeException e) {
                failed.accept(batch.size(), e);
            }
            batch.clear();
        }
    }
}
