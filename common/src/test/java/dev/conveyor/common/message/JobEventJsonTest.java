package dev.conveyor.common.message;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.Json;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class JobEventJsonTest {

    private final UUID id = UUID.fromString("019374b2-8c1e-7a7d-9f57-1c4b0b3e2a10");
    private final Instant at = Instant.parse("2026-11-28T10:15:30.123Z");

    @Test
    void eventsCarryTheirKindAndVersionAsPlainJson() {
        var json = Json.tree(Json.write(new JobStarted(JobEvent.VERSION, id, 2, 1, "w1", at)));

        assertThat(json.get("event").asString()).isEqualTo("started");
        assertThat(json.get("v").asInt()).isEqualTo(1);
        assertThat(json.get("at").asString()).isEqualTo("2026-11-28T10:15:30.123Z");
        assertThat(json.get("generation").asInt()).isEqualTo(1);
    }

    @Test
    void aFinishedEventWrittenByHandIsRead() {
        var json = """
                {"event": "finished", "v": 1, "jobId": "%s", "attempt": 1, "maxAttempts": 3, "workerId": "w",
                 "outcome": "FAILED", "error": {"code": "TIMEOUT", "message": "late", "retryable": true},
                 "at": "2026-11-28T10:15:30.123Z", "addedLater": true}
                """.formatted(id);

        var event = Json.read(json, JobEvent.class);

        assertThat(event).isInstanceOf(JobFinished.class);
        var finished = (JobFinished) event;
        assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.FAILED);
        assertThat(finished.error()).isEqualTo(new JobError("TIMEOUT", "late", true));
        assertThat(finished.generation()).as("absent in events written before generations: 0").isZero();
    }

    @Test
    void aDispatchSurvivesTheRoundTrip() {
        var dispatch = new JobDispatch(1, id, "echo", "default", 1, 3, 300, Json.tree("{\"a\": [1, 2]}"), at, 0);

        assertThat(Json.read(Json.write(dispatch), JobDispatch.class)).isEqualTo(dispatch);
    }
}
