package dev.conveyor.api.results;

import dev.conveyor.api.wakeup.JobNotifications;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.UUID;
import org.springframework.stereotype.Component;

/**
 * Counts as lost the attempts of QUEUED jobs whose record Kafka has settled although no event of the attempt ever
 * reached the api. A worker accepts a record before it runs the job and reports the start only after
 * {@code start-event-after}, so a worker that dies in between (a job that halts it, say) leaves exactly this trace;
 * so does a record Kafka archived after releases or a rejection. Each such attempt is lost as if its worker had died
 * while running it ({@link JobLifecycle#lost}): run again at once the first time, with backoff after that, failed
 * with {@code WORKER_LOST} past {@code max-lost-attempts}, so a job that stops every worker that takes it does not
 * go round for ever.
 */
@Component
public class LostAttempts {

    private final JobWrites writes;
    private final JobLifecycle lifecycle;
    private final JobNotifications notifications;
    private final Clock clock;

    LostAttempts(JobWrites writes, JobLifecycle lifecycle, JobNotifications notifications, Clock clock) {
        this.writes = writes;
        this.lifecycle = lifecycle;
        this.notifications = notifications;
        this.clock = clock;
    }

    /**
     * Loses the next attempt of each job; call inside the transaction that found them still waiting on their settled
     * record, with their rows locked. Answers the jobs changed.
     */
    public List<UUID> lose(Collection<UUID> ids) {
        if (ids.isEmpty()) {
            return List.of();
        }
        var now = clock.instant();
        var updates = new ArrayList<JobUpdate>();
        writes.lock(ids, new HashMap<>()).forEach((id, state) -> {
            var attempt = state.attempts() + 1;
            var taken = JobUpdate.of(state).start(state.started(attempt), null, null);
            updates.add(lifecycle.lost(taken, "attempt " + attempt + " was taken from Kafka, but neither its start "
                    + "nor its end was ever reported (its worker stopped first, or Kafka archived its record)", now));
        });
        var written = writes.write(updates);
        notifications.notifyEnded(updates.stream().filter(u -> u.to().status().isTerminal())
                .map(u -> u.to().id()).toList());
        return written;
    }
}
