package dev.conveyor.api.submit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.web.FieldError;
import dev.conveyor.common.Json;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;

class StorableTest {

    /**
     * A payload 470 objects deep under field names of 10,000 characters, with a NUL at the bottom (4.7 MB, within
     * the batch body limit): naming the NUL's place once built a path per level, about depth² / 2 × 10,000 characters
     * held at once, past any heap the api runs with.
     */
    @Test
    void aDeepPayloadOfLongFieldNamesIsNamedInAShortPath() {
        var name = "k".repeat(10_000);
        var depth = 470;
        var json = new StringBuilder();
        for (var i = 0; i < depth; i++) {
            json.append("{\"").append(name).append(i % 10).append("\":");
        }
        json.append("\"\\u0000\"").append("}".repeat(depth));
        var errors = new ArrayList<FieldError>();

        Storable.checkPayload(Json.tree(json.toString()), "payload", errors);

        assertThat(errors).singleElement().satisfies(error -> {
            assertThat(error.field()).startsWith("payload." + "k".repeat(Storable.MAX_NAME_CHARS) + "….")
                    .endsWith("." + "k".repeat(Storable.MAX_NAME_CHARS) + "…")
                    .contains("…")
                    .hasSizeLessThanOrEqualTo(Storable.MAX_PATH_CHARS);
            assertThat(error.message()).contains("NUL");
        });
    }

    @Test
    void aShortPathIsNamedInFull() {
        var errors = new ArrayList<FieldError>();

        Storable.checkPayload(Json.tree("{\"a\":[1,{\"b\\u0000\":\"x\"},\"\\ud800\"]}"), "jobs[3].payload", errors);

        assertThat(errors).extracting(FieldError::field)
                .containsExactly("jobs[3].payload.a[1].b\\u0000", "jobs[3].payload.a[2]");
    }

    @Test
    void aPayloadNestedPastTheLimitIsNamedWhereItGoesTooDeep() {
        var errors = new ArrayList<FieldError>();
        var depth = Storable.MAX_DEPTH;

        Storable.checkPayload(Json.tree("[".repeat(depth) + "]".repeat(depth)), "payload", errors);
        Storable.checkPayload(Json.tree("[".repeat(depth + 1) + "]".repeat(depth + 1)), "payload", errors);

        assertThat(errors).singleElement().satisfies(error -> {
            assertThat(error.field()).startsWith("payload[0][0]").contains("…").endsWith("[0][0]")
                    .hasSizeLessThanOrEqualTo(Storable.MAX_PATH_CHARS);
            assertThat(error.message()).contains("nested " + (depth + 1) + " levels deep");
        });
    }
}
