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
     * The workers alive now.
     *
     * @param ids       the ids heard from within {@code worker-lost-after}
     * @param startedAt for an id under which one process alone was heard within that time, when that process started:
     *                  an attempt under the id that started earlier is a gone process's (the id was restarted); no
     *                  entry for an id that two live processes share, or whose process did not say when it started
     */
    public record Alive(Set<String> ids, Map<String, Instant> startedAt) {

        public Alive {
            ids = Set.copyOf(ids);
            startedAt = Map.copyOf(startedAt);
        }
    }
}
