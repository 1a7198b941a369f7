package dev.conveyor.api.results;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.TaskFailures;
import dev.conveyor.api.dispatch.SharePositions;
import dev.conveyor.api.wakeup.JobNotifications;
import dev.conveyor.api.workers.LiveWorkers;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Makes sure no job stays RUNNING forever. An attempt is lost (error {@code WORKER_LOST}), and the
 * {@link JobLifecycle} decides what follows (run again, with backoff after the first loss; cancelled if that was
 * asked for; failed past {@code max-lost-attempts}), when:
 * <ul>
 * <li>its worker has been silent for {@code worker-lost-after}, judged only on current evidence: while this
 * instance reads the heartbeats up to date and has done so for at least that long (so a Kafka outage, which
 * silences every worker at once, makes nobody dead); at once if this instance had heard the worker before (an
 * attempt whose start was applied after the worker died is no less lost), else once the attempt itself has been
 * unchanged that long (the worker may be new, its first heartbeat not read yet); or its worker's id has been
 * taken by a new process (a restart under a fixed id) while every earlier process under it has been silent that
 * long, and the attempt started before the new process did;
 * <li>it is still RUNNING well past {@code startedAt + timeoutSeconds}, although workers interrupt and report at
 * the deadline (its outcome could not be reported).
 * </ul>
 *
 * <p>Either way only once the events written before the attempt was found lost have been applied: its outcome may
 * be on Kafka, unread (this api was down, or PostgreSQL, or the events listener is catching up), and rescuing it
 * first would throw the outcome away and run the job again. A pass that finds suspects notes the end of
 * {@code conveyor.events}; a later pass rescues those still lost once the events listeners have committed that
 * far, or after {@code rescue-grace} in any case, so that a listener that cannot catch up leaves no job RUNNING
 * forever.
 */
@Component
class Rescuer {

    private static final Logger log = LoggerFactory.getLogger(Rescuer.class);
    private static final int BATCH = 1000;

    private final JobWrites writes;
    private final JobLifecycle lifecycle;
    private final TransactionTemplate transaction;
    private final JobNotifications notifications;
    private final LiveWorkers workers;
    private final ApiProperties properties;
    private final Clock clock;
    private final SharePositions positions;
    private final TaskFailures failures = new TaskFailures(log, "The rescue pass",
            "attempts whose worker was lost stay RUNNING");

    Rescuer(JobWrites writes, JobLifecycle lifecycle, TransactionTemplate transaction,
            JobNotifications notifications, LiveWorkers workers, ApiProperties properties, Clock clock,
            SharePositions positions) {
        this.positions = positions;
        this.writes = writes;
        this.lifecycle = lifecycle;
        this.transaction = transaction;
        this.notifications = notifications;
        this.workers = workers;
        this.properties = properties;
        this.clock = clock;
    }

    /** Attempts found lost, the end of the events topic read after they were, and when they were (clock). */
    private record Suspects(List<UUID> pastDeadline, List<UUID> silent, Map<TopicPartition, Long> eventsEnd,
            long since, Instant lookedAt) {
    }

    // only the scheduler's thread
    private Suspects suspects;

    @Scheduled(fixedDelayString = "${conveyor.api.rescue-interval:1s}")
    void rescue() {
        try {
            if (suspects == null) {
                suspects = suspects();
            } else if (positions.applied(suspects.eventsEnd()) || waitedTooLong(suspects)) {
                var found = suspects;
                suspects = null;
                rescue(() -> writes.lockPastDeadline(properties.rescueGrace(), found.pastDeadline(), BATCH),
                        running -> "attempt " + running.state().attempts()
                                + " reported no outcome within its timeout");
                workers.aliveIfCurrent().map(alive -> readSince(alive, found.lookedAt())).ifPresent(alive -> rescue(
                        () -> writes.lockSilent(alive, properties.workerLostAfter(), found.silent(), BATCH),
                        running -> lostWith(running, alive)));
                // At once, not at the next pass: an attempt whose start was applied after the look above (a dead
                // worker's last starts, say) waits one pass less to be found, and its events' end to be applied.
                suspects = suspects();
            }
            failures.worked();
        } catch (RuntimeException e) {
            failures.failed(e);
        }
    }

    /** The attempts that look lost now (locked only for the look), with the events' end; null when none does. */
    private Suspects suspects() {
        var lookedAt = clock.instant();
        var pastDeadline = ids(writes.lockPastDeadline(properties.rescueGrace(), null, BATCH));
        var silent = workers.aliveIfCurrent()
                .map(alive -> ids(writes.lockSilent(alive, properties.workerLostAfter(), null, BATCH)))
                .orElse(List.of());
        if (pastDeadline.isEmpty() && silent.isEmpty()) {
            return null;
        }
        return new Suspects(pastDeadline, silent, positions.eventsEnd(), System.nanoTime(), lookedAt);
    }

    /**
     * The live workers, naming gone ones only once every heartbeat written before the look has been read. An attempt
     * found under a gone worker's id, just started, may be a new process's that took the id (a restart): its first
     * heartbeat is sent before it takes jobs, so once it has been read the id is alive again. Before that, only the
     * attempts unchanged for {@code worker-lost-after} are taken.
     */
    private static LiveWorkers.Alive readSince(LiveWorkers.Alive alive, Instant lookedAt) {
        return alive.readUpTo().isAfter(lookedAt) ? alive : alive.withoutGone();
    }

    private static String lostWith(JobWrites.Running running, LiveWorkers.Alive alive) {
        var attempt = "attempt " + running.state().attempts();
        var restartedAt = alive.startedAt().get(running.workerId());
        if (restartedAt != null) {
            return "the process of worker " + running.workerId() + " that ran " + attempt + " is gone: a process "
                    + "started at " + restartedAt + " has taken its id";
        }
        return "worker " + running.workerId() + " stopped sending heartbeats while it ran " + attempt;
    }

    private boolean waitedTooLong(Suspects found) {
        if (System.nanoTime() - found.since() < properties.rescueGrace().toNanos()) {
            return false;
        }
        log.warn("The events written before {} attempts looked lost were not applied within {}; rescuing them anyway",
                found.pastDeadline().size() + found.silent().size(), properties.rescueGrace());
        return true;
    }

    private static List<UUID> ids(List<JobWrites.Running> running) {
        return running.stream().map(r -> r.state().id()).toList();
    }

    private void rescue(Supplier<List<JobWrites.Running>> lost, Function<JobWrites.Running, String> why) {
        transaction.executeWithoutResult(status -> {
            var now = clock.instant();
            var updates = new ArrayList<JobUpdate>();
            for (var running : lost.get()) {
                updates.add(lifecycle.lost(JobUpdate.of(running.state()), why.apply(running), now));
            }
            if (updates.isEmpty()) {
                return;
            }
            writes.write(updates);
            var ended = updates.stream().filter(u -> u.to().status().isTerminal()).map(u -> u.to().id()).toList();
            log.warn("Rescued {} attempts whose workers were lost: {}", updates.size(),
                    updates.stream().map(u -> u.to().id()).toList());
            notifications.notifyEnded(new ArrayList<UUID>(ended));
        });
    }
}
