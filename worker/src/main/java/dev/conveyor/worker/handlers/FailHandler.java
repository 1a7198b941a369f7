package dev.conveyor.worker.handlers;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.common.handler.JobHandler;
import java.util.List;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * {@code fail}: fails every attempt with {@code message} (default "fail"), retryable unless {@code retryable} is
 * false, until the attempt number reaches {@code untilAttempt} (1 or more), which then succeeds with
 * {@code {"attempt": n}}. A payload it cannot read fails the attempt for good, whatever {@code retryable} says.
 */
@Component
class FailHandler implements JobHandler {

    private static final List<String> FIELDS = List.of("message", "retryable", "untilAttempt");

    @Override
    public String type() {
        return "fail";
    }

    @Override
    public JsonNode handle(JobContext context) {
        var payload = context.payload();
        Payloads.onlyFields(payload, type(), FIELDS);
        var until = Payloads.integer(payload, "untilAttempt", 1, Integer.MAX_VALUE);
        var message = Payloads.text(payload, "message", "fail");
        var retryable = Payloads.bool(payload, "retryable", true);
        if (until != null && context.attempt() >= until) {
            var result = Json.object();
            result.put("attempt", context.attempt());
            return result;
        }
        throw retryable ? JobFailure.retryable(message) : JobFailure.notRetryable(message);
    }
}
