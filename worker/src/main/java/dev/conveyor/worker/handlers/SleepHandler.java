package dev.conveyor.worker.handlers;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.common.handler.JobHandler;
import java.util.List;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/** {@code sleep}: sleeps {@code ms} milliseconds (0 to one hour), or until interrupted by a timeout or cancel. */
@Component
class SleepHandler implements JobHandler {

    static final long MAX_MS = 3_600_000;
    private static final List<String> FIELDS = List.of("ms");

    @Override
    public String type() {
        return "sleep";
    }

    @Override
    public JsonNode handle(JobContext context) throws InterruptedException {
        var payload = context.payload();
        Payloads.onlyFields(payload, type(), FIELDS);
        var ms = Payloads.integer(payload, "ms", 0, MAX_MS);
        if (ms == null) {
            throw JobFailure.notRetryable("payload.ms is required: an integer from 0 to " + MAX_MS);
        }
        Thread.sleep(ms);
        var result = Json.object();
        result.put("sleptMs", ms);
        return result;
    }
}
