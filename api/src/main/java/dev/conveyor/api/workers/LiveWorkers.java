package dev.conveyor.api.workers;

import java.util.Optional;
import java.util.Set;
import org.springframework.stereotype.Component;

/** Which workers are alive, for the rescuer: what this instance's worker table knows. */
@Component
public class LiveWorkers {

    private final WorkerTable table;

    LiveWorkers(WorkerTable table) {
        this.table = table;
    }

    /** The live workers' ids; empty while this instance has not listened long enough to know them all. */
    public Optional<Set<String>> idsIfKnown() {
        return table.liveIdsIfKnown();
    }
}
