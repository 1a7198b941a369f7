package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collections;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;

/** The walk for what cannot be stored costs no more than the values it may look at, however large the result. */
class JobOutcomesTest {

    /**
     * An array of three million values, under a limit of a million: each of its elements was queued to be looked
     * at before the limit was counted (some 100 MB of heap beside the result, for one that is refused for its size
     * anyway).
     */
    @Test
    void aContainerWithMoreValuesThanTheWalkMayLookAtIsNotQueuedWhole() {
        var read = new AtomicLong();
        var huge = new ArrayNode(JsonNodeFactory.instance,
                Collections.nCopies(3_000_000, JsonNodeFactory.instance.numberNode(1))) {
            @Override
            public JsonNode get(int index) {
                read.incrementAndGet();
                return super.get(index);
            }
        };
        var result = JsonNodeFactory.instance.objectNode();
        result.set("rows", huge);

        assertThat(JobOutcomes.problem(result, 1_000_000)).isNull(); // refused by the size check that follows
        assertThat(read).as("elements looked at").hasValueLessThanOrEqualTo(1_000_000);
    }

    @Test
    void aContainerWithinTheLimitIsWalkedWhole() {
        var rows = JsonNodeFactory.instance.arrayNode();
        for (var i = 0; i < 999; i++) {
            rows.add(i);
        }
        rows.add("bad \u0000");

        assertThat(JobOutcomes.problem(rows, 1_001)).startsWith("result[999] holds a NUL character");
    }
}
