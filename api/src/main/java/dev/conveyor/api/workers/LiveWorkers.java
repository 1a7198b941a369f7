package dev.conveyor.api.workers;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.springframework.stereotype.Component;

/** Which workers are alive, for the rescuer: what this instance's worker table knows, when it knows it. */
@Component
public class LiveWorkers {

    private final WorkerTable table;

    LiveWorkers(WorkerTable table) {
        this.table = table;
    }

    /**
     * The workers alive now; empty unless this instance has read their heartbeats up to date for at least
     * {@code worker-lost-after}, so that a worker missing from the answer is known to be silent.
     */
    public Optional<Alive> aliveIfCurrent() {
        return table.aliveIfCurrent();
    }

    /**
     * Whether a live worker (heard within {@code worker-lost-after}) takes jobs of {@code type} from {@code queue};
     * empty unless this instance has read the heartbeats up to date for that long.
     */
    public Optional<Boolean> runsSomewhere(String queue, String type) {
        return table.runsSomewhere(queue, type);
    }

    /**
     * The workers alive now.
     *
     * @param ids       the ids heard from within {@code worker-lost-after}
     * @param startedAt for an id under which one process alone was heard within that time, when that process started:
     *                  an attempt under the id that started earlier is a gone process's (the id was restarted); no
     *                  entry for an id that two live processes share, or whose process did not say when it started
     * @param gone      the ids heard from before but not within {@code worker-lost-after}: workers known to be gone
     *                  (an id in neither set may be a new worker's that has not been heard yet)
     * @param readUpTo  this instance has read every heartbeat that was on the topic at this time (its clock)
     */
    public record Alive(Set<String> ids, Map<String, Instant> startedAt, Set<String> gone, Instant readUpTo) {

        public Alive {
            ids = Set.copyOf(ids);
            startedAt = Map.copyOf(startedAt);
            gone = Set.copyOf(gone);
        }

        /** The same, without naming any worker gone. */
        public Alive withoutGone() {
            return new Alive(ids, startedAt, Set.of(), readUpTo);
        }
    }
}
