package dev.conveyor.api.workers;

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
     * The ids of the workers alive now; empty unless this instance has read their heartbeats up to date for at
     * least {@code worker-lost-after}, so that a worker missing from the set is known to be silent.
     */
    public Optional<Set<String>> aliveIfCurrent() {
        return table.aliveIfCurrent();
    }
}
