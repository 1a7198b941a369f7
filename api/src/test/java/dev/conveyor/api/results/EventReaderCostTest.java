package dev.conveyor.api.results;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.message.JobFinished;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * What checking an event costs grows with the event, not with its size times its depth: a result a worker may send
 * (keys of up to 10,000 characters, nested, and many values under them, about a megabyte in all) is read in a moment.
 */
class EventReaderCostTest {

    @Test
    void aResultWithLongKeysAboveManyValuesIsReadInAMoment() {
        var key = "k".repeat(10_000);
        var result = new StringBuilder();
        var depth = 50;
        for (var i = 0; i < depth; i++) {
            result.append("{\"").append(key).append("\":");
        }
        result.append('[');
        for (var i = 0; i < 250_000; i++) {
            result.append(i == 0 ? "0" : ",0");
        }
        result.append(']').append("}".repeat(depth));
        var event = "{\"event\":\"finished\",\"v\":1,\"jobId\":\"" + UUID.randomUUID() + "\",\"attempt\":1,"
                + "\"generation\":0,\"maxAttempts\":3,\"workerId\":\"w\",\"outcome\":\"SUCCEEDED\",\"result\":" + result
                + ",\"at\":\"" + Instant.now() + "\"}";

        var read = CompletableFuture.supplyAsync(() -> EventReader.read(event, Instant.now()));

        assertThat(read).succeedsWithin(Duration.ofSeconds(10)).satisfies(finished -> assertThat(
                ((JobFinished) finished.orElseThrow()).outcome()).isEqualTo(JobFinished.Outcome.SUCCEEDED));
    }

    @Test
    void aResultThatCannotBeStoredIsNamedByItsPath() {
        var event = "{\"event\":\"finished\",\"v\":1,\"jobId\":\"" + UUID.randomUUID() + "\",\"attempt\":1,"
                + "\"generation\":0,\"maxAttempts\":3,\"outcome\":\"SUCCEEDED\","
                + "\"result\":{\"a\":{\"b\":[1,\"x\\u0000\"]}},\"at\":\"" + Instant.now() + "\"}";

        var finished = (JobFinished) EventReader.read(event, Instant.now()).orElseThrow();

        assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.FAILED);
        assertThat(finished.error().code()).isEqualTo(EventReader.RESULT_INVALID);
        assertThat(finished.error().message()).endsWith("it holds a NUL character (\\u0000) at $.a.b[1]");
    }

    @Test
    void aResultThatCannotBeStoredUnderLongKeysIsNamedInAMessageOfBoundedLength() {
        var key = "k".repeat(10_000);
        var event = "{\"event\":\"finished\",\"v\":1,\"jobId\":\"" + UUID.randomUUID() + "\",\"attempt\":1,"
                + "\"generation\":0,\"maxAttempts\":3,\"outcome\":\"SUCCEEDED\",\"result\":"
                + ("{\"" + key + "\":").repeat(20) + "\"x\\u0000\"" + "}".repeat(20) + ",\"at\":\"" + Instant.now()
                + "\"}";

        var finished = (JobFinished) EventReader.read(event, Instant.now()).orElseThrow();

        assertThat(finished.error().code()).isEqualTo(EventReader.RESULT_INVALID);
        assertThat(finished.error().message()).hasSizeLessThanOrEqualTo(8192)
                .startsWith("the result cannot be stored: it holds a NUL character (\\u0000) at $.kkkk");
    }
}
