package dev.conveyor.worker.execute;

import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.MDC;
import tools.jackson.databind.JsonNode;

/**
 * One attempt of a handler, on the job's virtual thread. It ends in exactly one way: the handler returns or throws,
 * the deadline passes, or the attempt is cancelled or abandoned; whichever comes first wins, and the handler's thread
 * is interrupted for all but the first two.
 */
final class Attempt {

    /** How an attempt ended. */
    sealed interface End {
        record Returned(JsonNode result) implements End {
        }

        record Threw(Throwable error) implements End {
        }

        record TimedOut() implements End {
        }

        /** The job was cancelled while it ran. */
        record Cancelled() implements End {
        }

        /** The worker is stopping and hands the job back without reporting it. */
        record Abandoned() implements End {
        }
    }

    private final int generation;
    private final int number;
    private final CompletableFuture<End> end = new CompletableFuture<>();
    private final CompletableFuture<Void> handlerEnded = new CompletableFuture<>();
    /** The handler's thread while the handler runs; read and written under this object's lock. */
    private Thread thread;
    /** Set once the handler starts: who reports an end decided while it runs (under the lock). */
    private Consumer<End> reportElsewhere;
    private Map<String, String> logContext;
    private volatile long deadlineMillis = Long.MAX_VALUE;

    Attempt(int generation, int number) {
        this.generation = generation;
        this.number = number;
    }

    /** Whether this is the same attempt of the same generation (a second record of one dispatch). */
    boolean isSameAs(Attempt other) {
        return generation == other.generation && number == other.number;
    }

    int generation() {
        return generation;
    }

    /** True once the attempt has ended (or was cancelled or abandoned before it ran). */
    boolean isOver() {
        return end.isDone();
    }

    /**
     * Runs the handler on the calling thread, so a job costs one thread and no hand-off between two. Returns how the
     * attempt ended when the handler decided it (it returned or threw), for the caller to report; an attempt
     * cancelled or abandoned before this never starts its handler and returns that end. When the attempt ends
     * otherwise while the handler runs (its deadline passes, see {@link Deadlines}, or it is cancelled or abandoned),
     * the handler's thread is interrupted and {@code reportElsewhere} gets that end at once, on a virtual thread of
     * its own, so that the end is reported even if the handler ignores the interrupt; this then returns null once
     * the handler does return.
     */
    End run(JobHandler handler, JobContext context, Deadlines deadlines, Consumer<End> reportElsewhere) {
        synchronized (this) {
            if (end.isDone()) {
                return end.join();
            }
            thread = Thread.currentThread();
            this.reportElsewhere = reportElsewhere;
            // the report of an end decided elsewhere names the job and its trace in its log lines, as this thread does
            logContext = MDC.getCopyOfContextMap();
        }
        deadlineMillis = context.deadline().toEpochMilli();
        deadlines.add(this);
        End handled;
        try {
            handled = new End.Returned(handler.handle(context));
        } catch (Throwable t) {
            handled = new End.Threw(t);
        }
        var decided = end.complete(handled);
        deadlines.remove(this);
        synchronized (this) {
            thread = null;
        }
        // An interrupt meant for the handler (delivered under the lock, so before the line above) stops here.
        Thread.interrupted();
        handlerEnded.complete(null);
        return decided ? handled : null;
    }

    boolean isOverdue(long nowMillis) {
        return nowMillis >= deadlineMillis && !end.isDone();
    }

    /** Ends the attempt for passing its deadline, unless it has ended. */
    void timeOut() {
        stop(new End.TimedOut());
    }

    /**
     * Waits up to {@code patience} for the handler to end; true when it has, or never started. An attempt ends at its
     * deadline, but a handler that ignores interrupts runs on.
     */
    boolean awaitHandler(Duration patience) throws InterruptedException {
        synchronized (this) {
            if (reportElsewhere == null) {
                return true;
            }
        }
        try {
            handlerEnded.get(patience.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException("the handler's end carries no value", e);
        }
    }

    /** Completes when the handler ends (never, if it never started: see {@link #awaitHandler}). */
    CompletableFuture<Void> handlerEnded() {
        return handlerEnded;
    }

    void cancel() {
        stop(new End.Cancelled());
    }

    void abandon() {
        stop(new End.Abandoned());
    }

    private void stop(End how) {
        if (!end.complete(how)) {
            return;
        }
        Consumer<End> report;
        Map<String, String> context;
        synchronized (this) {
            if (thread != null) {
                thread.interrupt();
            }
            report = reportElsewhere;
            context = logContext;
        }
        if (report != null) {
            Thread.ofVirtual().name("conveyor-report").start(() -> {
                if (context != null) {
                    MDC.setContextMap(context);
                }
                report.accept(how);
            });
        }
    }
}
