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

    /**
     * A hand-back of a job the worker did not run says so by echoing its dispatch's hand-back count; every other end
     * leaves the field out (and one of a worker older than it reads as an attempt that ran).
     */
    @Test
    void onlyAnEndOfAJobGivenBackUnstartedCarriesTheDispatchsHandBacks() {
        var dispatch = new JobDispatch(1, id, "echo", "default", 1, 3, 300, Json.object(), at, 0, 7);
        var failure = JobFinished.failed(dispatch, 1, "w1", new JobError(JobError.WORKER_LOST, "no room", true), null,
                at);

        assertThat(Json.tree(Json.write(failure)).has("handBacks")).isFalse();
        assertThat(((JobFinished) Json.read(Json.write(failure), JobEvent.class)).givenBackUnstarted()).isFalse();
        var givenBack = (JobFinished) Json.read(Json.write(failure.unstarted(dispatch).withStartedAt(at)),
                JobEvent.class);
        assertThat(givenBack.givenBackUnstarted()).isTrue();
        assertThat(givenBack.handBacks()).isEqualTo(7);
        assertThat(Json.read("""
                {"v": 1, "jobId": "%s", "type": "echo", "queue": "default", "attempt": 1, "maxAttempts": 3,
                 "timeoutSeconds": 300, "payload": {}, "dispatchedAt": "2026-11-28T10:15:30.123Z", "generation": 0}
                """.formatted(id), JobDispatch.class).handBacks()).as("a dispatch of an api older than the field")
                .isZero();
    }

    @Test
    void aDispatchSurvivesTheRoundTrip() {
        var dispatch = new JobDispatch(1, id, "echo", "default", 1, 3, 300, Json.tree("{\"a\": [1, 2]}"), at, 0, 2);

        assertThat(Json.read(Json.write(dispatch), JobDispatch.class)).isEqualTo(dispatch);
    }
}
