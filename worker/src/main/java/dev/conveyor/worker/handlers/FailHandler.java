package dev.conveyor.worker.handlers;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.common.handler.JobHandler;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * {@code fail}: fails every attempt with {@code message} (default "fail"), retryable unless {@code retryable} is
 * false, until the attempt number reaches {@code untilAttempt}, which then succeeds with {@code {"attempt": n}}.
 */
@Component
class FailHandler implements JobHandler {

    @Override
    public String type() {
        return "fail";
    }

    @Override
    public JsonNode handle(JobContext context) {
        var payload = context.payload();
        var until = payload.get("untilAttempt");
        if (until != null && until.isNumber() && context.attempt() >= until.asInt()) {
            var result = Json.object();
            result.put("attempt", context.attempt());
            return result;
        }
        var given = payload.get("message");
        var message = given == null || given.isNull() ? "fail" : given.isString() ? given.asString() : given.toString();
        var retryable = !payload.hasNonNull("retryable") || payload.get("retryable").asBoolean();
        throw retryable ? JobFailure.retryable(message) : JobFailure.notRetryable(message);
    }
}
