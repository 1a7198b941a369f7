package dev.conveyor.worker.execute;

import dev.conveyor.common.handler.JobHandler;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.springframework.stereotype.Component;

/** Every {@link JobHandler} bean, by type. Two handlers for one type stop the worker at start-up. */
@Component
public class HandlerRegistry {

    private final Map<String, JobHandler> byType = new TreeMap<>();

    HandlerRegistry(List<JobHandler> handlers) {
        for (var handler : handlers) {
            var earlier = byType.putIfAbsent(handler.type(), handler);
            if (earlier != null) {
                throw new IllegalStateException("Two handlers for job type '" + handler.type() + "': "
                        + earlier.getClass().getName() + " and " + handler.getClass().getName()
                        + "; remove one of the beans");
            }
        }
    }

    public Optional<JobHandler> find(String type) {
        return Optional.ofNullable(byType.get(type));
    }

    /** The job types this worker runs, sorted. */
    public List<String> types() {
        return List.copyOf(byType.keySet());
    }
}
