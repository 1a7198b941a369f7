package dev.conveyor.api.dispatch;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.TaskFailures;
import dev.conveyor.api.results.LostAttempts;
import dev.conveyor.common.Threads;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Finds jobs that wait QUEUED although Kafka will never deliver their record again, counts the attempt as lost
 * ({@link LostAttempts}: due again at once the first time, failed past max-lost-attempts) and so hands the job back
 * to the {@link DuePoller}. Such a record was accepted by a worker that stopped before it reported the attempt (a
 * worker reports a start only once a job has run for {@code start-event-after}, and a short job only its end), or
 * Kafka archived it unstarted: rejected, or released up to the delivery limit (workers draining, an expired
 * acquisition lock).
 *
 * <p>A record below its share partition's start offset (or below the end, when Kafka reports no lag; see
 * {@link SharePositions#settledOffsets}) is acknowledged or archived. It may also have been accepted by a worker
 * that runs the job now and reports it soon (within {@code start-event-after}), or whose event is on
 * {@code conveyor.events} but not yet applied. So a round reads the share groups' offsets first, then the end of
 * {@code conveyor.events}, waits until the api has applied events that far, and only then takes up jobs that are
 * still QUEUED on the same record <em>and were found so a whole {@code reconcile-interval} before</em> that end was
 * read: an event sent by a live worker has long been applied by then. That interval is the margin; rounds come
 * more often ({@link #LOOK_EVERY}), so that a record is found settled soon after Kafka settles it and its job is put
 * back about one interval after that, rather than after up to two (a round an interval after the loss at worst, and
 * one more an interval later).
 *
 * <p>Every api instance runs this. Two rounds that find the same job are safe: each update is guarded on the job
 * still waiting on that very record (status, attempts, position), with the rows locked in id order, so the second
 * finds the position cleared (or a new one) and changes nothing; each lost record costs one attempt, once.
 */
@Component
class RecordReconciler implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(RecordReconciler.class);
    private static final int BATCH = 500;
    private static final Duration MAX_CATCH_UP = Duration.ofSeconds(30);
    /**
     * How often rounds look for settled records (or every interval, if that is shorter); a round that failed waits
     * the interval.
     */
    static final Duration LOOK_EVERY = Duration.ofSeconds(1);

    private final LostRecords lost;
    private final SharePositions kafka;
    private final Duration interval;
    private final Duration look;
    private final Counter redispatched;
    private final TaskFailures failures = new TaskFailures(log, "Looking for lost job records",
            "jobs whose record Kafka settled unstarted stay QUEUED");
    private volatile boolean running;
    private Thread reconciler;
    /**
     * Jobs found waiting on a settled record by the last round that got that far, each with when it was first found
     * so ({@link System#nanoTime}, once Kafka had answered): only these may be put back, an interval later.
     */
    private Map<LostRecords.Waiting, Long> foundSince = Map.of();

    @Autowired
    RecordReconciler(LostRecords lost, SharePositions kafka, ApiProperties properties, MeterRegistry meters) {
        this(lost, kafka, properties.dispatch().reconcileInterval(), meters);
    }

    RecordReconciler(LostRecords lost, SharePositions kafka, Duration interval, MeterRegistry meters) {
        this.lost = lost;
        this.kafka = kafka;
        this.interval = interval;
        this.look = interval.compareTo(LOOK_EVERY) < 0 ? interval : LOOK_EVERY;
        this.redispatched = Counter.builder("conveyor.dispatch.redispatched")
                .description("Attempts lost because Kafka settled their record and no event of the attempt came")
                .register(meters);
    }

    /**
     * What one round found: jobs whose record is settled, whether the api had applied the events written until
     * then (if not, nothing was put back), and the jobs put back.
     */
    record Round(int suspects, boolean eventsApplied, List<UUID> redispatched) {

        static final Round NOTHING = new Round(0, true, List.of());
    }

    /** One round; answers what it did. */
    synchronized Round reconcile() throws InterruptedException {
        var queues = lost.queues();
        if (queues.isEmpty()) {
            foundSince = Map.of();
            return Round.NOTHING;
        }
        var starts = kafka.settledOffsets(queues);
        // every record found below these offsets was settled by now
        var settledBy = System.nanoTime();
        log.debug("Settled offsets of queues {}: {}", queues, starts);
        var suspects = 0;
        for (var queue : starts.entrySet()) {
            suspects += lost.below(queue.getKey(), queue.getValue(), null, BATCH).size();
        }
        if (suspects == 0) {
            foundSince = Map.of();
            return Round.NOTHING;
        }
        // an event sent before this is applied once the api has applied up to the end read next
        var sentBefore = System.nanoTime();
        var ends = kafka.eventsEnd();
        var giveUpAt = System.nanoTime() + catchUpLimit().toNanos();
        if (!kafka.awaitApplied(ends, () -> !running || System.nanoTime() > giveUpAt)) {
            log.info("{} dispatched jobs wait on records Kafka has settled, but the api has not applied "
                    + "conveyor.events that far yet; looking again in {}", suspects, look);
            return new Round(suspects, false, List.of());
        }
        var done = new ArrayList<UUID>();
        var found = new HashMap<LostRecords.Waiting, Long>();
        for (var queue : starts.entrySet()) {
            done.addAll(redispatch(queue.getKey(), queue.getValue(), settledBy, sentBefore - interval.toNanos(),
                    found));
        }
        foundSince = found;
        return new Round(suspects, true, done);
    }

    /**
     * Puts back the jobs of the queue found waiting on a settled record by {@code foundBy} at the latest (found so
     * in an earlier round), and adds the jobs found in this round to {@code found}, each with when it was first found
     * (now: {@code settledBy}).
     */
    private List<UUID> redispatch(String queue, Map<Integer, Long> starts, long settledBy, long foundBy,
            Map<LostRecords.Waiting, Long> found) {
        var done = new ArrayList<UUID>();
        UUID after = null;
        while (true) {
            var batch = lost.below(queue, starts, after, BATCH);
            if (batch.isEmpty()) {
                return done;
            }
            var confirmed = new ArrayList<LostRecords.Waiting>();
            for (var waiting : batch) {
                var since = foundSince.getOrDefault(waiting, settledBy);
                found.put(waiting, since);
                if (since - foundBy <= 0) {
                    confirmed.add(waiting);
                }
            }
            var ids = confirmed.isEmpty() ? List.<UUID>of() : lost.redispatch(confirmed);
            if (!ids.isEmpty()) {
                redispatched.increment(ids.size());
                log.warn("Kafka settled the records of {} jobs of queue '{}' whose attempt was never reported; "
                        + "counting it as lost: {}", ids.size(), queue, ids);
                done.addAll(ids);
            }
            if (batch.size() < BATCH) {
                return done;
            }
            after = batch.getLast().id();
        }
    }

    /** Long enough for a busy events consumer, short enough that a stalled one does not hold up the next round. */
    private Duration catchUpLimit() {
        return interval.compareTo(MAX_CATCH_UP) < 0 ? interval : MAX_CATCH_UP;
    }

    private void loop() {
        var wait = look;
        while (running) {
            try {
                LockSupport.parkNanos(wait.toNanos()); // stop() unparks
                wait = look;
                if (running) {
                    reconcile();
                    failures.worked();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                wait = interval;
                failures.failed(e);
            }
        }
    }

    @Override
    public void start() {
        running = true;
        reconciler = Thread.ofVirtual().name("record-reconciler").start(this::loop);
    }

    @Override
    public void stop() {
        running = false;
        LockSupport.unpark(reconciler);
        Threads.joinOrInterrupt(reconciler, Duration.ofSeconds(5));
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Stops with the poller it feeds, before the dispatcher. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 4096;
    }
}
