package dev.conveyor.worker.handlers;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.common.handler.JobHandler;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/** {@code sleep}: sleeps {@code ms} milliseconds (0 to one hour), or until interrupted by a timeout or cancel. */
@Component
class SleepHandler implements JobHandler {

    static final long MAX_MS = 3_600_000;

    @Override
    public String type() {
        return "sleep";
    }

    @Override
    public JsonNode handle(JobContext context) throws InterruptedException {
        var ms = context.payload().get("ms");
        if (ms == null || !ms.isIntegralNumber() || ms.asLong() < 0 || ms.asLong() > MAX_MS) {
            throw JobFailure.notRetryable("payload.ms must be an integer from 0 to " + MAX_MS);
        }
        Thread.sleep(ms.asLong());
        var result = Json.object();
        result.put("sleptMs", ms.asLong());
        return result;
    }
}
