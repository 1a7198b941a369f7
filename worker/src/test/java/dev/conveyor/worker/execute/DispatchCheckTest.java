package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.JobLimits;
import dev.conveyor.common.Json;
import dev.conveyor.common.message.JobDispatch;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A worker takes a job record exactly as far as the api's limits go ({@link JobLimits}, which the api's submission
 * checks read too): at each limit it runs, one past it the record is refused. The worker had limits of its own, equal
 * to the api's by hand, free to drift apart from them.
 */
class DispatchCheckTest {

    private static JobDispatch job(String type, String queue, int timeoutSeconds, JsonNode payload) {
        return new JobDispatch(JobDispatch.VERSION, UUID.randomUUID(), type, queue, 1, 3, timeoutSeconds, payload,
                Instant.now(), 0);
    }

    private static JsonNode nested(int levels) {
        return Json.tree("{\"d\":" + "[".repeat(levels - 1) + "]".repeat(levels - 1) + "}");
    }

    @Test
    void takesARecordAtTheApisLimitsAndRefusesOnePastThem() {
        var longestType = "t".repeat(100);
        var longestQueue = "q".repeat(64);
        assertThat(JobLimits.TYPE.matcher(longestType).matches()).isTrue();
        assertThat(JobLimits.QUEUE.matcher(longestQueue).matches()).isTrue();
        var largest = Json.object().put("n", JobLimits.LARGEST_NUMBER);

        assertThat(DispatchCheck.problem(job(longestType, longestQueue, JobLimits.MAX_TIMEOUT_SECONDS,
                nested(JobLimits.MAX_PAYLOAD_DEPTH)))).isNull();
        assertThat(DispatchCheck.problem(job("echo", "default", 30, largest))).isNull();

        assertThat(DispatchCheck.problem(job(longestType + "t", "default", 30, Json.object()))).startsWith("type");
        assertThat(DispatchCheck.problem(job("echo", longestQueue + "q", 30, Json.object()))).startsWith("queue");
        assertThat(DispatchCheck.problem(job("echo", "default", JobLimits.MAX_TIMEOUT_SECONDS + 1, Json.object())))
                .startsWith("timeoutSeconds");
        assertThat(DispatchCheck.problem(job("echo", "default", 30, nested(JobLimits.MAX_PAYLOAD_DEPTH + 1))))
                .startsWith("payload is nested deeper than " + JobLimits.MAX_PAYLOAD_DEPTH);
        assertThat(DispatchCheck.problem(job("echo", "default", 30,
                Json.object().put("n", JobLimits.LARGEST_NUMBER.add(BigDecimal.ONE))))).startsWith("payload holds");
    }

    private static JobDispatch attempt(int attempt, int maxAttempts) {
        return new JobDispatch(JobDispatch.VERSION, UUID.randomUUID(), "echo", "default", attempt, maxAttempts, 30,
                Json.object(), Instant.now(), 0);
    }

    @Test
    void takesAnAttemptAsFarAboveMaxAttemptsAsTheApiMayGoAndRefusesOnePast() {
        var uncharged = JobLimits.MAX_ATTEMPTS_UNCHARGED;

        assertThat(DispatchCheck.problem(attempt(3 + uncharged, 3))).isNull();
        assertThat(DispatchCheck.problem(attempt(Integer.MAX_VALUE, Integer.MAX_VALUE))).isNull();
        assertThat(DispatchCheck.problem(attempt(1, Integer.MAX_VALUE))).isNull();

        assertThat(DispatchCheck.problem(attempt(3 + uncharged + 1, 3))).startsWith("attempt " + (3 + uncharged + 1));
        assertThat(DispatchCheck.problem(attempt(Integer.MAX_VALUE, 1))).startsWith("attempt 2147483647");
    }
}
