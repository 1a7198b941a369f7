package dev.conveyor.worker.execute;

import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import dev.conveyor.common.message.JobError;
import dev.conveyor.worker.Deadlines;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;
import org.slf4j.MDC;
import tools.jackson.databind.JsonNode;

/**
 * One attempt of a handler, on a virtual thread of its own. It ends in exactly one way: the handler returns or
 * throws, the deadline passes, or the attempt is cancelled or abandoned; whichever comes first wins, and the
 * handler's thread is interrupted for all but the first two.
 */
final class Attempt {

    /** How an attempt ended. */
    sealed interface End {
        /** The handler returned: its result, checked and encoded on the handler's thread (a snapshot of it). */
        record Returned(JsonNode result) implements End {
        }

        /** The handler returned a result that cannot be reported: why. */
        record Refused(JobError error) implements End {
        }

        /** The handler threw: what its exception says, read on the handler's thread ({@link Thrown}). */
        record Threw(Thrown thrown) implements End {
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
    private final int maxAttempts;
    private final CompletableFuture<End> end = new CompletableFuture<>();
    private final CompletableFuture<Void> handlerEnded = new CompletableFuture<>();
    private volatile Thread thread;

    /** @param maxAttempts the job's budget, as its record says */
    Attempt(int generation, int number, int maxAttempts) {
        this.generation = generation;
        this.number = number;
        this.maxAttempts = maxAttempts;
    }

    /** Whether this is the same attempt of the same generation (a second record of one dispatch). */
    boolean isSameAs(Attempt other) {
        return generation == other.generation && number == other.number;
    }

    /** Whether this is a later attempt of the job than {@code other}: of a later generation, or later in the same. */
    boolean isLaterThan(Attempt other) {
        return generation != other.generation ? generation > other.generation : number > other.number;
    }

    /**
     * Whether the api could have dispatched this attempt after {@code earlier}: in the same generation the budget is
     * the same (the api raises it only with a retry, which starts a new generation). A record of the generation
     * running here that claims another budget is no api's, whatever attempt it claims.
     */
    boolean mayFollow(Attempt earlier) {
        return generation != earlier.generation || maxAttempts == earlier.maxAttempts;
    }

    int generation() {
        return generation;
    }

    int number() {
        return number;
    }

    /** True once the attempt has ended (or was cancelled or abandoned before it ran). */
    boolean isOver() {
        return end.isDone();
    }

    /**
     * Runs the handler and waits for the attempt to end; the calling (virtual) thread only waits. An attempt
     * cancelled or abandoned before this never starts its handler.
     */
    End run(JobHandler handler, JobContext context) throws InterruptedException {
        return run(handler, context, End.Returned::new);
    }

    /**
     * As {@link #run(JobHandler, JobContext)}, with the handler's result checked by {@code check} on the handler's
     * thread: the result is the handler's own object, which may throw, or never answer, as it is read. One that never
     * answers keeps that thread (a stuck handler's), not the attempt's report, which its deadline ends.
     */
    End run(JobHandler handler, JobContext context, Function<JsonNode, End> check) throws InterruptedException {
        if (end.isDone()) {
            return end.join();
        }
        // the handler's log lines name the job and its trace, as the runner's do (an empty MDC costs nothing)
        var logContext = MDC.getCopyOfContextMap();
        thread = Thread.ofVirtual().name("job-" + context.jobId()).start(() -> {
            if (logContext != null) {
                MDC.setContextMap(logContext);
            }
            try {
                end.complete(check.apply(handler.handle(context)));
            } catch (Throwable t) {
                // read here, so that an exception whose message never comes holds this thread (a stuck handler's),
                // not the attempt's report, which its deadline ends
                end.complete(new End.Threw(Thrown.read(t)));
            } finally {
                handlerEnded.complete(null);
            }
        });
        if (end.isDone()) {
            // cancelled or abandoned while the thread started: stop() may have found no thread to interrupt
            thread.interrupt();
        }
        // An untimed wait, ended at the deadline by the timer's thread (see Deadlines).
        var deadline = Deadlines.after(context.deadline().toEpochMilli() - Instant.now().toEpochMilli(),
                this::timeOut);
        try {
            return end.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("attempts end by value", e);
        } finally {
            deadline.cancel(false);
        }
    }

    /**
     * Waits up to {@code patience} for the handler's thread to end; true when it has, or never started. An attempt
     * ends at its deadline, but a handler that ignores interrupts runs on.
     */
    boolean awaitHandler(Duration patience) throws InterruptedException {
        var running = thread;
        return running == null || running.join(patience);
    }

    /** Completes when the handler's thread ends (never, if it never started: see {@link #awaitHandler}). */
    CompletableFuture<Void> handlerEnded() {
        return handlerEnded;
    }

    /** Ends the attempt at its deadline; one whose deadline passed before it ran never starts its handler. */
    void timeOut() {
        stop(new End.TimedOut());
    }

    void cancel() {
        stop(new End.Cancelled());
    }

    void abandon() {
        stop(new End.Abandoned());
    }

    private void stop(End how) {
        if (end.complete(how) && thread != null) {
            thread.interrupt();
        }
    }
}
