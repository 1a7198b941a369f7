package dev.conveyor.worker.execute;

import dev.conveyor.common.handler.JobHandler;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.springframework.stereotype.Component;

/**
 * Every {@link JobHandler} bean, by type. Two handlers for one type stop the worker at start-up, and so does a handler
 * for a type no job can have (the api takes only {@code [a-z0-9][a-z0-9._-]{0,99}}): it would never run; and so do
 * more than {@link #MAX_TYPES} handlers.
 */
@Component
public class HandlerRegistry {

    private static final Pattern TYPE = Pattern.compile("[a-z0-9][a-z0-9._-]{0,99}");

    /** Most job types a worker runs, as most the api keeps in a heartbeat. */
    static final int MAX_TYPES = 1_000;

    private final Map<String, JobHandler> byType = new TreeMap<>();

    HandlerRegistry(List<JobHandler> handlers) {
        // the api keeps no heartbeat that lists more: the worker would not be listed, nor its handlers known
        if (handlers.size() > MAX_TYPES) {
            throw new IllegalStateException(handlers.size() + " handlers for " + handlers.size() + " job types, more "
                    + "than the " + MAX_TYPES + " the api keeps in a worker's heartbeat: split them among workers");
        }
        for (var handler : handlers) {
            var type = handler.type();
            if (type == null || !TYPE.matcher(type).matches()) {
                throw new IllegalStateException("The type of handler " + handler.getClass().getName() + ", "
                        + (type == null ? "null" : "'" + JobOutcomes.text(type, 120) + "'")
                        + ", is not a job type ([a-z0-9][a-z0-9._-]{0,99}): no job could ever run on it. Give it "
                        + "the type that jobs are submitted with, such as 'invoice-total'");
            }
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
