package dev.conveyor.api.workers;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.common.Topics;
import dev.conveyor.common.log.LogInterval;
import dev.conveyor.common.log.LogText;
import dev.conveyor.common.message.WorkerHeartbeat;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * The latest heartbeat of every worker this api instance has heard from, and when it counts as heard.
 *
 * <p>Freshness is judged by this instance's clock only: a heartbeat counts as seen when it arrives, not at its
 * {@code at}, which comes from the worker's clock and may be off by any amount. The exception is the backlog read
 * at start-up (the compacted topic still holds the last heartbeat of every worker that died without a tombstone):
 * arrival says nothing about those, so they count as seen at their record's timestamp, never later than now. A
 * live worker whose clock is behind is thereby listed late by at most one heartbeat interval, on its next beat.
 *
 * <p>A worker id is a process's own. Two live processes under one id (set so by hand) take turns in the table, told
 * apart only by when each started: the table notices the turns, says so in the log and counts such ids
 * ({@link #sharedIds}), since while either beats the api takes the id for alive and cannot rescue the other's jobs
 * when it dies. A process that replaces another under the same id (a restart) takes no turns and is no such case:
 * once the one before has been silent for {@code worker-lost-after}, the attempts under the id that started before
 * the new process are that dead one's ({@link #aliveIfCurrent}).
 *
 * <p>A worker that says it beats less often than a third of {@code worker-lost-after} (its {@code heartbeat-interval}
 * set so) is taken for dead, listed and kept only after three of its intervals of silence (at most
 * {@link #MAX_SILENCE}): judged by {@code worker-lost-after} alone, it was taken for dead between two beats, and each
 * of its running attempts was run again beside it, then failed {@code WORKER_LOST}.
 */
@Component
class WorkerTable {

    /**
     * Reads of the topic further apart than this break the evidence: heartbeats may have been missed in between.
     * (The reader checks every half second.)
     */
    static final Duration MAX_READ_GAP = Duration.ofSeconds(3);
    /**
     * The longest silence a worker's announced heartbeat interval may earn it (three of the longest interval a
     * worker accepts, a minute): a heartbeat claiming a longer one does not keep a dead worker's jobs waiting longer.
     */
    static final Duration MAX_SILENCE = Duration.ofMinutes(3);
    /**
     * Most workers the table keeps: a heartbeat is anyone's to write who can write to {@code conveyor.workers}, under
     * any number of ids, each kept for the TTL. A new worker past it is refused until others fall silent.
     */
    static final int MAX_WORKERS = 10_000;
    /** Most queue and type names the table keeps for all its workers together (each a reference to a name held). */
    static final long MAX_NAMES_LISTED = 2_000_000;
    private static final Duration REFUSALS_LOGGED_EVERY = Duration.ofMinutes(1);

    private static final Logger log = LoggerFactory.getLogger(WorkerTable.class);

    private final Map<String, Worker> workers = new ConcurrentHashMap<>();
    /** Per id heard from a second process: the other one, and when the two were last seen taking turns. */
    private final Map<String, Turns> turns = new ConcurrentHashMap<>();
    /** Per worker whose heartbeats come less often than a third of {@code worker-lost-after}: its longer silence. */
    private final Map<String, Duration> longerSilences = new ConcurrentHashMap<>();
    private final HeartbeatNames names = new HeartbeatNames(); // by the reader's thread only
    /** How many names the workers in the table list, all together. */
    private final AtomicLong namesListed = new AtomicLong();
    private final LogInterval refusals = new LogInterval(REFUSALS_LOGGED_EVERY);
    private final Counter refused;
    private final Clock clock;
    private final Duration ttl;
    private final Duration lostAfter;
    private volatile Instant caughtUpSince;
    private volatile Instant lastCaughtUp;
    private Instant lastPruned; // by the reader's thread only
    private Instant lastPrunedWhenFull; // likewise

    WorkerTable(Clock clock, ApiProperties properties) {
        this(clock, properties, new SimpleMeterRegistry());
    }

    @Autowired
    WorkerTable(Clock clock, ApiProperties properties, MeterRegistry meters) {
        this.clock = clock;
        this.ttl = properties.workerTtl();
        this.lostAfter = properties.workerLostAfter();
        this.refused = Counter.builder("conveyor.workers.heartbeats.refused")
                .description("heartbeats the api did not keep: too many names listed, or too many workers")
                .register(meters);
        Gauge.builder("conveyor.workers.shared.ids", this, WorkerTable::sharedIds)
                .description("Worker ids that two live processes use at once (each process needs an id of its own)")
                .register(meters);
    }

    /**
     * The reader has read everything that was on the topic at {@code asOf} (by this table's clock). Once a TTL, it
     * also forgets the workers not heard from within it: each worker process has an id of its own, and those that
     * died without a tombstone would otherwise pile up, each restart adding one, unless someone listed the workers.
     */
    void caughtUp(Instant asOf) {
        var last = lastCaughtUp;
        if (last != null && !asOf.isAfter(last)) {
            return;
        }
        if (last == null || asOf.isAfter(last.plus(MAX_READ_GAP))) {
            caughtUpSince = asOf;
        }
        lastCaughtUp = asOf;
        if (lastPruned == null || !asOf.isBefore(lastPruned.plus(ttl))) {
            lastPruned = asOf;
            forgetStale();
            names.retainListedBy(workers.values());
        }
    }

    /**
     * The workers heard from within {@code worker-lost-after}, only while the evidence is current: this instance has
     * read the topic up to date without a gap for at least that long. Without it (Kafka unreachable, or this instance
     * just started, or its reader lagging), silence proves nothing, and this answers empty: the rescuer then takes no
     * worker for dead.
     *
     * <p>For each id under which one process alone was heard within that time, the answer also says when that
     * process started: an attempt under the id that started before it belongs to a process that is gone (the id's
     * process was restarted), since every other process under the id has been silent as long as a dead worker. An id
     * that two live processes take turns under has no such time: their attempts cannot be told apart; nor has a
     * process whose start is not believable (after now by this instance's clock).
     *
     * <p>It also names the workers this instance heard and has not heard since (within the TTL, and without a
     * tombstone): those are known to be gone, where an id missing from both sets may be a new worker's whose first
     * heartbeat has not been read yet.
     */
    Optional<LiveWorkers.Alive> aliveIfCurrent() {
        var now = clock.instant();
        var last = lastCaughtUp;
        if (!current(now)) {
            return Optional.empty();
        }
        var oldest = now.minus(lostAfter);
        var ids = new HashSet<String>();
        var gone = new HashSet<String>();
        var startedAt = new HashMap<String, Instant>();
        for (var worker : workers.values()) {
            if (worker.lastSeenAt().isBefore(now.minus(silenceOf(worker.id())))) {
                gone.add(worker.id());
                continue;
            }
            ids.add(worker.id());
            var other = turns.get(worker.id());
            if (believable(worker.startedAt(), now) && (other == null || other.otherSeenAt().isBefore(oldest))) {
                startedAt.put(worker.id(), worker.startedAt());
            }
        }
        return Optional.of(new LiveWorkers.Alive(ids, startedAt, gone, last));
    }

    /**
     * Whether a worker heard within {@code worker-lost-after} takes jobs of {@code type} from {@code queue} (its
     * heartbeats list both); empty while the evidence is not current, as for {@link #aliveIfCurrent}.
     */
    Optional<Boolean> runsSomewhere(String queue, String type) {
        var now = clock.instant();
        if (!current(now)) {
            return Optional.empty();
        }
        return Optional.of(workers.values().stream().anyMatch(worker -> !worker.lastSeenAt().isBefore(
                now.minus(silenceOf(worker.id()))) && worker.queues().contains(queue) && worker.types().contains(type)));
    }

    /** How long the worker may be silent before it is taken for dead: {@code worker-lost-after}, or longer. */
    private Duration silenceOf(String id) {
        return longerSilences.getOrDefault(id, lostAfter);
    }

    /**
     * The silence a worker that beats every {@code intervalMillis} earns: three beats, if that is longer than
     * {@code worker-lost-after}, up to {@link #MAX_SILENCE}; null for none longer.
     */
    private Duration longerSilence(Long intervalMillis) {
        if (intervalMillis == null || intervalMillis <= 0) {
            return null;
        }
        var three = Duration.ofMillis(Math.min(intervalMillis, MAX_SILENCE.toMillis()) * 3);
        var silence = three.compareTo(MAX_SILENCE) > 0 ? MAX_SILENCE : three;
        return silence.compareTo(lostAfter) > 0 ? silence : null;
    }

    /** Whether this instance has read the topic up to date, without a gap, for at least {@code worker-lost-after}. */
    private boolean current(Instant now) {
        var last = lastCaughtUp;
        var since = caughtUpSince;
        return last != null && !now.isAfter(last.plus(MAX_READ_GAP)) && !now.isBefore(since.plus(lostAfter));
    }

    /**
     * Whether a process's start, by its worker's clock, can tell its attempts from an earlier process's: not a start
     * after now (a clock ahead of this one, or a forged heartbeat: taken at its word, every attempt under the id would
     * look older than the process), and not before 1970 (no process started then; and far enough back, no timestamp
     * column holds the year, which would fail the rescuer's query).
     */
    private static boolean believable(Instant startedAt, Instant now) {
        return startedAt != null && !startedAt.isAfter(now) && !startedAt.isBefore(Instant.EPOCH);
    }

    /**
     * Records a worker's latest heartbeat.
     *
     * @param recordTime the Kafka record's timestamp
     * @param backlog    whether it was already on the topic when this instance started reading
     */
    void heard(String id, WorkerHeartbeat heartbeat, Instant recordTime, boolean backlog) {
        var now = clock.instant();
        var seenAt = backlog && recordTime.isBefore(now) ? recordTime : now;
        var startedAt = millis(heartbeat.startedAt());
        List<String> queues;
        List<String> types;
        try {
            queues = names.queues(heartbeat.queues());
            types = names.types(heartbeat.types());
            roomFor(id, queues.size() + types.size());
        } catch (HeartbeatNames.Refused e) {
            refuse(id, e.getMessage());
            return;
        }
        var previous = workers.put(id, new Worker(id, queues, types, heartbeat.inFlight(), heartbeat.completed(),
                startedAt, millis(seenAt)));
        namesListed.addAndGet(queues.size() + types.size() - listed(previous));
        if (previous != null && previous.startedAt() != null && startedAt != null
                && !startedAt.equals(previous.startedAt())) {
            anotherProcess(id, startedAt, previous, seenAt);
        }
        var silence = longerSilence(heartbeat.intervalMillis());
        var before = silence == null ? longerSilences.remove(id) : longerSilences.put(id, silence);
        if (silence != null && !silence.equals(before)) {
            log.warn("Worker {} sends a heartbeat every {} ms, not several within this api's worker-lost-after ({}): "
                    + "it is taken for dead only after {} s of silence, so its jobs wait that long to run again if "
                    + "it dies. Set its conveyor.worker.heartbeat-interval to a third of worker-lost-after or less.",
                    LogText.of(id, 100), heartbeat.intervalMillis(), lostAfter, silence.toSeconds());
        }
    }

    /**
     * Throws unless the table can keep a heartbeat of {@code id} that lists {@code listing} names: a new worker past
     * {@link #MAX_WORKERS} (once the stale ones are forgotten), or names past {@link #MAX_NAMES_LISTED} (more than the
     * worker listed before), are refused.
     */
    private void roomFor(String id, int listing) throws HeartbeatNames.Refused {
        var before = workers.get(id);
        if (before == null && workers.size() >= MAX_WORKERS) {
            // a look over the whole table at most once a second: a flood of new ids would make one per heartbeat
            var now = clock.instant();
            if (lastPrunedWhenFull == null || !now.isBefore(lastPrunedWhenFull.plusSeconds(1))) {
                lastPrunedWhenFull = now;
                forgetStale();
            }
            if (workers.size() >= MAX_WORKERS) {
                throw new HeartbeatNames.Refused("the api keeps " + MAX_WORKERS + " workers already");
            }
        }
        if (listing > listed(before) && namesListed.get() - listed(before) + listing > MAX_NAMES_LISTED) {
            throw new HeartbeatNames.Refused("the workers kept list " + MAX_NAMES_LISTED + " names already");
        }
    }

    /** Counts a heartbeat not kept, and says so in the log at most once a minute. */
    private void refuse(String id, String reason) {
        refused.increment();
        var heldBack = refusals.pass();
        if (heldBack >= 0) {
            log.warn("Not keeping a heartbeat of worker {}: {}. Whoever can write to {} can write heartbeats; the "
                    + "refused ones are counted in conveyor_workers_heartbeats_refused_total{}",
                    LogText.of(id, 100), reason, Topics.WORKERS, LogInterval.heldBack(heldBack));
        }
    }

    private static int listed(Worker worker) {
        return worker == null ? 0 : worker.queues().size() + worker.types().size();
    }

    /**
     * The heartbeat of a process other than the last one heard under {@code id}: a restart, unless it is the one
     * before coming back while the other still beats.
     */
    private void anotherProcess(String id, Instant startedAt, Worker previous, Instant seenAt) {
        var before = turns.get(id);
        var backAgain = before != null && startedAt.equals(before.otherStartedAt())
                && !before.otherSeenAt().isBefore(seenAt.minus(lostAfter));
        if (backAgain && (before.sharedAt() == null || before.sharedAt().isBefore(seenAt.minus(ttl)))) {
            log.warn("Two worker processes use the id {} (started at {} and {}). The api cannot tell them apart: "
                    + "while either beats it takes the id for alive, so the jobs of one that dies wait for their "
                    + "timeouts to run again. Give each process an id of its own (leave conveyor.worker.id unset).",
                    LogText.of(id, 100), previous.startedAt(), startedAt);
        }
        turns.put(id, new Turns(previous.startedAt(), previous.lastSeenAt(),
                backAgain ? seenAt : before == null ? null : before.sharedAt()));
    }

    /** Worker ids that two live processes took turns under within the TTL. */
    int sharedIds() {
        var oldest = clock.instant().minus(ttl);
        return (int) turns.values().stream().filter(t -> t.sharedAt() != null && !t.sharedAt().isBefore(oldest))
                .count();
    }

    /**
     * The process heard under an id before the one heard last (its start, and when it was last heard), and when the
     * two last took turns (null: not yet).
     */
    private record Turns(Instant otherStartedAt, Instant otherSeenAt, Instant sharedAt) {
    }

    /** A worker said it stopped. */
    void forget(String id) {
        namesListed.addAndGet(-listed(workers.remove(id)));
        turns.remove(id);
        longerSilences.remove(id);
    }

    /** Workers seen within the TTL, by id. Forgets the others, so workers that come and go do not pile up. */
    List<Worker> live() {
        var now = forgetStale();
        return workers.values().stream().filter(worker -> !stale(worker, now))
                .sorted(Comparator.comparing(Worker::id)).toList();
    }

    /**
     * Forgets the workers not seen within the TTL (or their longer silence, for a worker that beats less often: else
     * it would be forgotten between two beats, and its attempts taken for a stranger's); answers now.
     */
    private Instant forgetStale() {
        var now = clock.instant();
        for (var worker : workers.values()) {
            // removes the entry only if it still holds the stale value
            if (stale(worker, now) && workers.remove(worker.id(), worker)) {
                namesListed.addAndGet(-listed(worker));
            }
        }
        turns.keySet().removeIf(id -> !workers.containsKey(id));
        longerSilences.keySet().removeIf(id -> !workers.containsKey(id));
        return now;
    }

    private boolean stale(Worker worker, Instant now) {
        var silence = silenceOf(worker.id());
        return worker.lastSeenAt().isBefore(now.minus(silence.compareTo(ttl) > 0 ? silence : ttl));
    }

    /** How many workers the table holds, stale ones included. */
    int size() {
        return workers.size();
    }

    /** Instants go out with millisecond precision, as everywhere in the api. */
    private static Instant millis(Instant instant) {
        return instant == null ? null : instant.truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    }
}
