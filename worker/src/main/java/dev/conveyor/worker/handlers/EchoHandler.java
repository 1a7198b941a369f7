package dev.conveyor.worker.handlers;

import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/** {@code echo}: answers the payload. */
@Component
class EchoHandler implements JobHandler {

    @Override
    public String type() {
        return "echo";
    }

    @Override
    public JsonNode handle(JobContext context) {
        return context.payload();
    }
}
