package dev.conveyor.worker.handlers;

import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import java.util.List;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * {@code halt}, for fault tests only: kills the worker's JVM at once, as a crash or {@code kill -9} would (no
 * shutdown hooks, no outcome reported, exit status 137), after {@code afterMs} milliseconds (0 to 3600000, default
 * 0). It exists only when {@code conveyor.worker.test-handlers.halt=true}; never set that in production.
 */
@Component
@ConditionalOnProperty(name = HaltHandler.PROPERTY, havingValue = "true")
class HaltHandler implements JobHandler {

    static final String PROPERTY = "conveyor.worker.test-handlers.halt";
    static final int EXIT_STATUS = 137;
    private static final List<String> FIELDS = List.of("afterMs");

    /** What halting does; replaceable so that the JVM running the tests survives them. */
    interface Halt {
        void now(int status);
    }

    private final Halt halt;

    HaltHandler() {
        this(status -> Runtime.getRuntime().halt(status));
    }

    HaltHandler(Halt halt) {
        this.halt = halt;
    }

    @Override
    public String type() {
        return "halt";
    }

    @Override
    public JsonNode handle(JobContext context) throws InterruptedException {
        Payloads.onlyFields(context.payload(), type(), FIELDS);
        var after = Payloads.integer(context.payload(), "afterMs", 0, SleepHandler.MAX_MS);
        if (after != null) {
            Thread.sleep(after);
        }
        halt.now(EXIT_STATUS);
        throw new IllegalStateException("the JVM should have halted");
    }
}
