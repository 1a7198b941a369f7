package dev.conveyor.worker.execute;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import dev.conveyor.common.log.LogInterval;
import dev.conveyor.common.log.LogText;
import dev.conveyor.common.message.JobDispatch;
import dev.conveyor.common.message.JobError;
import dev.conveyor.common.message.JobFinished;
import dev.conveyor.common.message.JobStarted;
import dev.conveyor.worker.WorkerProperties;
import dev.conveyor.worker.metrics.WorkerMetrics;
import dev.conveyor.worker.metrics.WorkerMetrics.NotRun;
import dev.conveyor.worker.tracing.JobTracing;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * Takes delivered records and runs their jobs. A cancelled job, or one no handler runs, is reported and accepted
 * without running. Otherwise the job gets its type's permit, its record is accepted, and it runs as an
 * {@link Attempt} whose outcome is reported: at once on its first attempt and delivery, otherwise once Kafka has the
 * acceptance ({@link #isSuspect}). Its start is reported only if it runs longer than {@code start-event-after}
 * ({@link StartReports}); a shorter attempt's end stands for its start. From the start
 * (or, before it, from the settled record) the api knows the attempt was taken and rescues it if its worker dies.
 * While the worker drains, records not started are released for other workers, and attempts abandoned at the end
 * of the grace period are handed back.
 */
@Component
public class JobRunner {

    private static final Logger log = LoggerFactory.getLogger(JobRunner.class);
    /**
     * How often a line about a record rejected as unreadable or invalid is logged at most, with a count of those held
     * back: whoever can write to a queue's topic can write such records as fast as they like.
     */
    static final Duration REJECTED_LOGGED_EVERY = Duration.ofMinutes(1);

    private final HandlerRegistry handlers;
    private final EventPublisher events;
    private final StartReports starts;
    private final RunningAttempts attempts;
    private final TypeLimits limits;
    private final WorkerProperties properties;
    private final Clock clock;
    private final WorkerMetrics metrics;
    private final JobTracing tracing;
    private final StuckHandlers stuck;
    private final DeliveryLimits deliveries;
    private final LogInterval unreadable;
    private final LogInterval inconsistent;
    /**
     * Records of an attempt already running here, or older than it: a Kafka redelivery or a second publish of the
     * same attempt makes a few, but anyone who can write to a jobs topic can make them as fast as they like.
     */
    private final LogInterval secondRecords;
    private final AtomicLong completed = new AtomicLong();
    /**
     * What the jobs in flight (and stuck handlers' jobs) hold: their records' bytes and their payloads' trees, what
     * max-in-flight-bytes bounds.
     */
    private final AtomicLong heldBytes = new AtomicLong();
    private volatile boolean draining;

    @Autowired
    JobRunner(HandlerRegistry handlers, EventPublisher events, RunningAttempts attempts, TypeLimits limits,
            WorkerProperties properties, Clock clock, MeterRegistry meters, WorkerMetrics metrics,
            JobTracing tracing, DeliveryLimits deliveries) {
        this(handlers, events, attempts, limits, properties, clock, meters, metrics, tracing, deliveries,
                System::nanoTime);
    }

    /** {@code nanoTime}: the clock of the rejected records' lines ({@link System#nanoTime()} outside tests). */
    JobRunner(HandlerRegistry handlers, EventPublisher events, RunningAttempts attempts, TypeLimits limits,
            WorkerProperties properties, Clock clock, MeterRegistry meters, WorkerMetrics metrics,
            JobTracing tracing, DeliveryLimits deliveries, LongSupplier nanoTime) {
        this.unreadable = new LogInterval(REJECTED_LOGGED_EVERY, nanoTime);
        this.inconsistent = new LogInterval(REJECTED_LOGGED_EVERY, nanoTime);
        this.secondRecords = new LogInterval(REJECTED_LOGGED_EVERY, nanoTime);
        this.handlers = handlers;
        this.deliveries = deliveries;
        this.events = events;
        this.starts = new StartReports(events, properties.startEventAfter());
        this.attempts = attempts;
        this.limits = limits;
        this.properties = properties;
        this.clock = clock;
        this.metrics = metrics;
        this.tracing = tracing;
        this.stuck = new StuckHandlers(meters);
        meters.gauge("conveyor.worker.in.flight", attempts, RunningAttempts::count);
        meters.gauge("conveyor.worker.in.flight.bytes", heldBytes, AtomicLong::get);
    }

    /**
     * What to do with a record now, and the rest of its work (its attempt), if any.
     *
     * @param afterCommit whether the rest waits until Kafka has the record's acknowledgement; otherwise it starts at
     *                    once, while the acknowledgement is on its way
     */
    record Taken(AcknowledgeType acknowledge, Runnable rest, boolean afterCommit, long noRoomFor) {

        Taken(AcknowledgeType acknowledge, Runnable rest, boolean afterCommit) {
            this(acknowledge, rest, afterCommit, 0);
        }

        static Taken done(AcknowledgeType acknowledge) {
            return new Taken(acknowledge, null, false);
        }

        /** Released: its job, weighing {@code bytes}, would take the jobs in flight past max-in-flight-bytes. */
        static Taken noRoom(long bytes) {
            return new Taken(AcknowledgeType.RELEASE, null, false, bytes);
        }
    }

    /** Takes a record whose lock on Kafka is not known: see {@link #take(ConsumerRecord, Duration, long)}. */
    Taken take(ConsumerRecord<String, String> record) throws InterruptedException {
        return take(record, null, Long.MAX_VALUE);
    }

    /**
     * Takes a delivered record. A job over its type's limit keeps its record unacknowledged for up to
     * {@code max-start-wait}, which holds back this consumer's next poll, so the worker takes no more than it can
     * start; after that it is taken anyway and waits here for its permit, until its deadline at the latest (then it
     * ends {@code TIMEOUT} without running): the deadline counts from the take, as the api's rescue clock does.
     *
     * @param lockLeft how long the record may yet stay unacknowledged before Kafka hands it to another consumer
     *                 (less the time its acknowledgement takes), when shorter than {@code max-start-wait}; null: not
     *                 known. Past it, both would run the job.
     * @param maxBytes max-in-flight-bytes: a job that would take what the jobs in flight hold past it is not taken
     *                 ({@link Taken#noRoom}: its record is released, for another worker or a later poll), unless
     *                 nothing else is held
     */
    Taken take(ConsumerRecord<String, String> record, Duration lockLeft, long maxBytes) throws InterruptedException {
        var read = readable(record);
        if (read == null) {
            return Taken.done(AcknowledgeType.REJECT);
        }
        var job = read.job();
        if (attempts.isCancelled(job.jobId(), job.generation(), job.dispatchedAt())) {
            return Taken.done(report(job, cancelled(job, "cancelled before it started")));
        }
        var handler = handlers.find(job.type()).orElse(null);
        if (handler == null) {
            // Given back, not failed: the api runs it again if another worker of the queue has a handler (a rolling
            // deploy that adds a type), and fails it if none does.
            return Taken.done(metrics.notRun(NotRun.NO_HANDLER, report(job, failed(job, new JobError(
                    JobError.NO_HANDLER, "no handler for job type '" + job.type() + "' on worker " + properties.id()
                    + " (it runs " + handlers.types() + ")", true), null).unstarted(job))));
        }
        // what its job holds until its handler's thread ends, for max-in-flight-bytes: the record, and the payload's
        // tree, which may take thirty times the record's bytes; reserved before the job waits for its type's permit
        var bytes = Math.max(0, record.serializedValueSize()) + read.payloadBytes();
        if (!reserve(bytes, maxBytes)) {
            // No room: back to Kafka, for a worker that has some; this consumer polls again once there is room for it.
            // Waiting here instead, unacknowledged, would hold back the poll's commit, which a redelivered job of the
            // same poll waits for before it runs (and frees room).
            if (isLastDelivery(record)) {
                return new Taken(metrics.notRun(NotRun.NO_ROOM, report(job, givenBack(job,
                        "had no room for it (max-in-flight-bytes)"))), null, false, bytes);
            }
            metrics.notRun(NotRun.NO_ROOM, AcknowledgeType.RELEASE);
            return Taken.noRoom(bytes);
        }
        var handedOver = false;
        try {
            var taken = takeReserved(job, handler, record, startWait(lockLeft), bytes);
            handedOver = taken.rest() != null;
            return taken;
        } finally {
            if (!handedOver) {
                free(bytes);
            }
        }
    }

    /** How long a record may stay unacknowledged while its job waits for its type's permit. */
    private Duration startWait(Duration lockLeft) {
        return lockLeft != null && lockLeft.compareTo(properties.maxStartWait()) < 0 ? lockLeft
                : properties.maxStartWait();
    }

    private Taken takeReserved(JobDispatch job, JobHandler handler, ConsumerRecord<String, String> record,
            Duration startWait, long bytes) throws InterruptedException {
        // A job that waits for the poll's commit (a later attempt, a record delivered again) takes no permit here: it
        // would hold it while the commit waits for the poll's other records, those of its type waiting for that very
        // permit, until max-start-wait. It waits for its permit once it runs, as a job taken past max-start-wait does.
        var suspect = isSuspect(job, record);
        var permitted = !draining && !suspect && limits.acquire(job.type(), startWait, () -> draining);
        var running = new Attempt(job.generation(), job.attempt(), job.maxAttempts());
        var registration = draining ? null : attempts.register(job.jobId(), running, job.dispatchedAt());
        if (registration != RunningAttempts.Registration.REGISTERED) {
            if (permitted) {
                limits.release(job.type());
            }
            if (registration == null) {
                return Taken.done(metrics.notRun(NotRun.STOPPING,
                        isLastDelivery(record) ? handBackWhileStopping(job) : AcknowledgeType.RELEASE));
            }
            if (registration == RunningAttempts.Registration.ALREADY_RUNNING) {
                var heldBack = secondRecords.pass();
                if (heldBack >= 0) {
                    log.info("Job {} attempt {} runs here already; accepting its second record without running it{}",
                            job.jobId(), job.attempt(), LogInterval.heldBack(heldBack));
                }
                return Taken.done(AcknowledgeType.ACCEPT);
            }
            if (registration == RunningAttempts.Registration.SUPERSEDED) {
                var heldBack = secondRecords.pass();
                if (heldBack >= 0) {
                    log.info("Job {} generation {} attempt {} is older than the attempt running here; accepting its "
                            + "record without running it{}", job.jobId(), job.generation(), job.attempt(),
                            LogInterval.heldBack(heldBack));
                }
                return Taken.done(AcknowledgeType.ACCEPT);
            }
            if (registration == RunningAttempts.Registration.INCONSISTENT) {
                var heldBack = inconsistent.pass();
                if (heldBack >= 0) {
                    log.error("Rejecting job {} generation {} attempt {}: its maxAttempts {} is not that of the "
                            + "attempt of its generation running here, and no api changes it within a generation{}",
                            job.jobId(), job.generation(), job.attempt(), job.maxAttempts(),
                            LogInterval.heldBack(heldBack));
                }
                return Taken.done(AcknowledgeType.REJECT);
            }
            return Taken.done(report(job, cancelled(job, "cancelled before it started")));
        }
        StartReports.Report start;
        try {
            // Its start follows only if it runs long enough.
            start = starts.begin(JobStarted.of(job, properties.id(), clock.instant()));
        } catch (RuntimeException e) {
            // Kafka would not take the start (its send threw, after max.block.ms): the record is released, so the
            // attempt must not stay registered (its next delivery would pass for a copy) nor keep its permit.
            attempts.unregister(job.jobId(), running);
            if (permitted) {
                limits.release(job.type());
            }
            throw e;
        }
        return new Taken(AcknowledgeType.ACCEPT, () -> runAttempt(job, handler, running, permitted, start, bytes),
                suspect);
    }

    /** Adds {@code bytes} to what the jobs in flight hold, unless that would pass {@code max} while anything is held. */
    private boolean reserve(long bytes, long max) {
        while (true) {
            var held = heldBytes.get();
            if (held > 0 && held + bytes > max) {
                return false;
            }
            if (heldBytes.compareAndSet(held, held + bytes)) {
                return true;
            }
        }
    }

    private void free(long bytes) {
        heldBytes.addAndGet(-bytes);
    }

    /**
     * Whether the job runs only once Kafka has its record's acceptance. A job on its first attempt, whose record is on
     * its first delivery, starts at once: nearly every job, spared the acknowledgement's round trip to the broker. Any
     * other may be one that stops the worker running it, so it waits: if it does stop this worker, its record is
     * settled by then and Kafka hands it to no other worker; the api counts the attempt as lost and decides (a job
     * that stops its workers stops {@code max-lost-attempts} of them, plus the one that took its first delivery).
     * A record comes back delivered again when the worker that had it stopped, or lost it, before Kafka had its
     * acceptance; a job is on a later attempt after a failure, a loss or a hand-back.
     */
    private static boolean isSuspect(JobDispatch job, ConsumerRecord<String, String> record) {
        return job.attempt() > 1 || record.deliveryCount().orElse((short) 1) > 1;
    }

    /**
     * Whether Kafka would archive the record if it were released now: this is the last of the deliveries it allows
     * ({@link DeliveryLimits}). Archived unstarted, the record would leave its job to the api's reconciler, which
     * counts the attempt as lost, as if its worker had died running it: past {@code max-lost-attempts} a job that
     * only met workers without room (a fleet at max-in-flight-bytes) would fail {@code WORKER_LOST} without having run.
     * Such a record is handed back instead ({@link #givenBack}): accepted, and its job published again by the api.
     */
    private boolean isLastDelivery(ConsumerRecord<String, String> record) {
        return deliveries.isLast(record);
    }

    /** The span (when tracing is on) in which a record's job is taken and run, on the calling thread. */
    JobTracing.Traced trace(ConsumerRecord<String, String> record) {
        return tracing.attempt(record);
    }

    /** A record's job, read and checked, with what its payload holds on the heap. */
    private record Read(JobDispatch job, long payloadBytes) {
    }

    /**
     * The record's job, or null (logged, at most once per {@link #REJECTED_LOGGED_EVERY} with a count of the others)
     * when it cannot be read or holds values no api would send.
     */
    private Read readable(ConsumerRecord<String, String> record) {
        String problem;
        try {
            var job = Json.read(record.value(), JobDispatch.class);
            var checked = DispatchCheck.check(job);
            if (checked.problem() == null) {
                return new Read(job, checked.payloadBytes());
            }
            problem = checked.problem();
        } catch (RuntimeException e) {
            problem = e.getMessage();
        }
        // the key and the value are anyone's to write (line breaks, terminal escapes); the reader's words quote them
        var heldBack = unreadable.pass();
        if (heldBack >= 0) {
            log.error("Rejecting an unreadable job record at {}-{}@{} (key {}): {}{}", record.topic(),
                    record.partition(), record.offset(), LogText.of(record.key(), 100), LogText.of(problem, 500),
                    LogInterval.heldBack(heldBack));
        }
        return null;
    }

    private void runAttempt(JobDispatch job, JobHandler handler, Attempt running, boolean permitted,
            StartReports.Report start, long bytes) {
        var holdsPermit = permitted;
        var metered = metrics.of(job.queue(), job.type());
        var progress = new ProgressSender(events, job, clock, start::sendNow);
        metered.started();
        try {
            // The api counts the attempt's time from its start's stamp (rescuing it past that plus rescue-grace), so
            // its deadline does too: time spent waiting for a permit or for the commit is part of it.
            var deadline = start.takenAt().plusSeconds(job.timeoutSeconds());
            if (!holdsPermit) {
                // until a permit comes, the deadline passes (then it times out without running), or the attempt is
                // cancelled or abandoned (then it ends without running)
                var patience = Duration.between(clock.instant(), deadline);
                holdsPermit = limits.acquire(job.type(), patience, running::isOver);
                if (!holdsPermit) {
                    running.timeOut();
                }
            }
            var context = new JobContext(job.jobId(), job.type(), job.queue(), job.attempt(), job.maxAttempts(),
                    job.payload(), deadline, progress);
            var began = System.nanoTime();
            var end = running.run(handler, context, this::checked);
            progress.end();
            start.ended();
            var outcome = outcome(job, end, holdsPermit).withStartedAt(start.takenAt());
            metered.ran(outcome.error() == null ? "SUCCEEDED" : outcome.error().code(), System.nanoTime() - began);
            // Kept until Kafka has it, through an outage, unless the worker is being stopped meanwhile.
            publish(job, outcome, true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            progress.end();
            start.ended();
            publish(job, handedBack(job).withStartedAt(start.takenAt()));
        } finally {
            // A handler that ignores interrupts keeps its permit until its thread really ends.
            var release = holdsPermit;
            stuck.whenEnded(job.jobId(), job.type(), running, () -> {
                free(bytes);
                if (release) {
                    limits.release(job.type());
                }
            });
            attempts.unregister(job.jobId(), running);
            metered.left();
        }
    }

    /** Stops starting records, and releases those waiting for a type limit. */
    void drain() {
        draining = true;
    }

    /** Interrupts the attempts still running; each is handed back to the api. */
    void abandonRunning() {
        attempts.abandonAll();
    }

    /** Attempts whose outcome this worker reported. */
    public long completed() {
        return completed.get();
    }

    /** Jobs taken and not ended: running, or waiting for their type's limit. */
    public int inFlight() {
        return attempts.count();
    }

    /** Jobs in flight plus handler threads still running after their attempt ended: what counts for max-in-flight. */
    int occupied() {
        return attempts.count() + stuck.count();
    }

    /** The records' sizes of the jobs counted by {@link #occupied()}: what counts for max-in-flight-bytes. */
    long heldBytes() {
        return heldBytes.get();
    }


    /**
     * Reports an attempt that ends without running (its end stands for its start); its record is accepted once Kafka
     * has the outcome.
     */
    private AcknowledgeType report(JobDispatch job, JobFinished outcome) {
        return publish(job, outcome.withStartedAt(outcome.at())) ? AcknowledgeType.ACCEPT : AcknowledgeType.RELEASE;
    }

    private boolean publish(JobDispatch job, JobFinished outcome) {
        return publish(job, outcome, false);
    }

    /** @param untilDelivered keep trying through a Kafka outage: the outcome of an attempt whose record is accepted */
    private boolean publish(JobDispatch job, JobFinished outcome, boolean untilDelivered) {
        boolean sent;
        try {
            sent = untilDelivered ? events.sendUntilDelivered(outcome, () -> draining) : events.sendAndWait(outcome);
        } catch (EventPublisher.TooLarge e) {
            if (outcome.result() == null) { // messages are cut short, so only a result should make an event this large
                log.error("Could not report the outcome of job {} attempt {}: {}", outcome.jobId(), outcome.attempt(),
                        e.getMessage());
                return false;
            }
            // Under max-result-bytes, yet too large for Kafka with the event around it: fail the job, not the event.
            return publish(job, failed(job, new JobError(JobError.RESULT_TOO_LARGE, "the result is too large for "
                    + "Kafka to carry (" + e.getMessage() + "); lower conveyor.worker.max-result-bytes or raise "
                    + "Kafka's message size limits", false), null), untilDelivered);
        } catch (EventPublisher.Unencodable e) {
            if (outcome.result() == null) { // the worker's own values only: nothing a handler made
                log.error("Could not report the outcome of job {} attempt {}: {}", outcome.jobId(), outcome.attempt(),
                        e.getMessage());
                return false;
            }
            // The handler's own node, checked and encoded once already, changed or threw since (a thread the handler
            // left running fills it still): it was sent again and again as if Kafka were down.
            return publish(job, failed(job, new JobError(JobOutcomes.RESULT_INVALID, "the result could not be "
                    + "encoded once checked (does a thread the handler started still change it?): "
                    + JobOutcomes.describe(e.getCause()), false), null), untilDelivered);
        }
        if (!sent) {
            // The api's rescuer retries the attempt once its deadline has long passed, or once this worker is silent.
            if (draining) {
                // thousands may fail at once as a stopping worker's producer closes: its stop logs how many
                log.debug("Could not report the outcome of job {} attempt {}", outcome.jobId(), outcome.attempt());
            } else {
                log.error("Could not report the outcome of job {} attempt {}", outcome.jobId(), outcome.attempt());
            }
            return false;
        }
        completed.incrementAndGet();
        return true;
    }

    /** @param ran whether the attempt got its type's permit, so that its handler could run */
    private JobFinished outcome(JobDispatch job, Attempt.End end, boolean ran) {
        return switch (end) {
            case Attempt.End.Returned(var value) -> JobFinished.succeeded(job, job.attempt(), properties.id(), value,
                    clock.instant());
            case Attempt.End.Refused(var error) -> failed(job, error, null);
            case Attempt.End.Threw(var thrown) -> threw(job, thrown);
            case Attempt.End.TimedOut() -> failed(job, new JobError(JobError.TIMEOUT, ran
                    ? "attempt " + job.attempt() + " ran longer than timeoutSeconds=" + job.timeoutSeconds()
                    : "attempt " + job.attempt() + " waited timeoutSeconds=" + job.timeoutSeconds() + " on worker "
                            + properties.id() + " for a permit of type-limits." + job.type() + " and never ran",
                    true), null);
            case Attempt.End.Cancelled() -> cancelled(job, "cancelled while running");
            case Attempt.End.Abandoned() -> handedBack(job);
        };
    }

    /**
     * Checks a handler's result, on the handler's thread ({@link Attempt}), and encodes it once: the outcome carries
     * that encoding, so the thread reporting the attempt never reads the handler's own nodes, which may throw, change
     * or never answer as they are read.
     */
    private Attempt.End checked(JsonNode value) {
        if (value == null) {
            return new Attempt.End.Returned(null);
        }
        var encoded = new EncodedSize(properties.maxResultBytes(), true);
        try {
            var problem = JobOutcomes.problem(value, properties.maxResultBytes());
            if (problem != null) {
                return new Attempt.End.Refused(new JobError(JobOutcomes.RESULT_INVALID, problem, false));
            }
            Json.MAPPER.writeValue(encoded, value);
        } catch (Throwable e) {
            // a node that throws as it is read: one that a thread the handler left running still fills, say
            if (!EncodedSize.stopped(e)) {
                return new Attempt.End.Refused(new JobError(JobOutcomes.RESULT_INVALID, "the result could not be "
                        + "read or encoded as JSON: " + JobOutcomes.describe(e), false));
            }
        }
        if (encoded.isOver()) {
            return new Attempt.End.Refused(new JobError(JobError.RESULT_TOO_LARGE, "the result is more than "
                    + properties.maxResultBytes() + " bytes encoded, the most allowed (max-result-bytes)", false));
        }
        return new Attempt.End.Returned(Json.raw(encoded.text()));
    }

    private JobFinished threw(JobDispatch job, Thrown thrown) {
        return failed(job, thrown.error(), thrown.retryAfterMs());
    }

    private JobFinished cancelled(JobDispatch job, String message) {
        return JobFinished.cancelled(job, properties.id(), new JobError(JobError.CANCELLED, message, false),
                clock.instant());
    }

    /** The worker stops and gives the job back: the api runs it again (a lost attempt, like a worker death). */
    private JobFinished handedBack(JobDispatch job) {
        return failed(job, new JobError(JobError.WORKER_LOST, "worker " + properties.id()
                + " stopped and handed the job back", true), null);
    }

    /**
     * A job this worker gives back without having run it, on its record's last delivery ({@link #isLastDelivery}):
     * the api dispatches the same attempt again at once, since it never started.
     */
    private JobFinished givenBack(JobDispatch job, String why) {
        return failed(job, new JobError(JobError.WORKER_LOST, "worker " + properties.id() + " " + why
                + " when Kafka delivered its record for the last time, and handed it back without running it", true),
                null).unstarted(job);
    }

    /**
     * Hands back a job a stopping worker does not start, without waiting for Kafka to confirm it: a stop's waits on
     * Kafka are bounded ({@code ShutdownWaits}). A hand-back that does not reach Kafka leaves the record accepted
     * and unstarted, which the api's reconciler counts as a lost attempt, as it did every such record before.
     */
    private AcknowledgeType handBackWhileStopping(JobDispatch job) {
        var outcome = givenBack(job, "was stopping");
        try {
            events.send(outcome.withStartedAt(outcome.at()));
            return AcknowledgeType.ACCEPT;
        } catch (RuntimeException e) {
            return AcknowledgeType.RELEASE;
        }
    }

    /** Every failure goes out through here, with its code and message made storable. */
    private JobFinished failed(JobDispatch job, JobError error, Long retryAfterMs) {
        return JobFinished.failed(job, job.attempt(), properties.id(),
                JobOutcomes.error(error.code(), error.message(), error.retryable()), retryAfterMs, clock.instant());
    }
}
