package dev.conveyor.api.submit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.web.FieldError;
import dev.conveyor.common.Json;
import dev.conveyor.common.JsonNumbers;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StorableTest {

    /** Copies {@code json} as the api copies a payload, adding its errors to {@code errors}. */
    private static Storable.Payload copy(String json, String path, List<FieldError> errors) {
        try (var parser = Json.MAPPER.createParser(json)) {
            parser.nextToken();
            var payload = Storable.copy(parser, path, Integer.MAX_VALUE);
            errors.addAll(payload.errors());
            return payload;
        }
    }

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

        copy(json.toString(), "payload", errors);

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

        copy("{\"a\":[1,{\"b\\u0000\":\"x\"},\"\\ud800\"]}", "jobs[3].payload", errors);

        assertThat(errors).extracting(FieldError::field)
                .containsExactly("jobs[3].payload.a[1].b\\u0000", "jobs[3].payload.a[2]");
    }

    @Test
    void aPayloadNestedPastTheLimitIsNamedWhereItGoesTooDeep() {
        var errors = new ArrayList<FieldError>();
        var depth = Storable.MAX_DEPTH;

        copy("[".repeat(depth) + "]".repeat(depth), "payload", errors);
        copy("[".repeat(depth + 1) + "]".repeat(depth + 1), "payload", errors);

        assertThat(errors).singleElement().satisfies(error -> {
            assertThat(error.field()).startsWith("payload[0][0]").contains("…").endsWith("[0][0]")
                    .hasSizeLessThanOrEqualTo(Storable.MAX_PATH_CHARS);
            assertThat(error.message()).contains("nested " + (depth + 1) + " levels deep");
        });
    }

    @Test
    void theCopyIsThePayloadWrittenCompactlyWithItsNumbersAsGiven() {
        var json = "{ \"s\" : \"a\\u0041\\n\u00e9\ud83d\ude00\", \"n\": [1, -2, 12345678901,"
                + " 123456789012345678901234567890, 1.50, 2e3, -0.0, 1e-300, 0.1000000000000000000001],"
                + " \"o\": {\"t\": true, \"f\": false, \"z\": null}, \"e\": {} }";
        var errors = new ArrayList<FieldError>();

        var payload = copy(json, "payload", errors);

        assertThat(errors).isEmpty();
        var written = "{\"s\":\"aA\\n\u00e9\ud83d\ude00\",\"n\":[1,-2,12345678901,123456789012345678901234567890,"
                + "1.50,2e3,-0.0,1e-300,0.1000000000000000000001],\"o\":{\"t\":true,\"f\":false,\"z\":null},\"e\":{}}";
        assertThat(payload.json()).isEqualTo(written);
        // as jsonb writes them back: 2000 (one more), 0.000…1 (302 characters for 6)
        assertThat(payload.size()).isEqualTo(written.getBytes(StandardCharsets.UTF_8).length + 1 + 296);
    }

    @Test
    void aNumberIsStorableWhenItsFullFormFitsAThousandCharacters() {
        assertThat(Storable.numberProblem(Storable.decimal("1e-990"))).isNull();
        assertThat(Storable.numberProblem(Storable.decimal("-1.7976931348623157E308"))).isNull();
        assertThat(Storable.numberProblem(Storable.decimal("1e-1000"))).contains("1002 characters");
        assertThat(Storable.numberProblem(Storable.decimal("1.8e308"))).contains("from -1.7976931348623157E308");
        assertThat(Storable.decimal("1e-2147483649")).isNull();
        assertThat(JsonNumbers.plainLength(Storable.decimal("-12.5e-3"))).isEqualTo("-0.0125".length());
        assertThat(JsonNumbers.plainLength(Storable.decimal("12e2"))).isEqualTo("1200".length());
    }

    /**
     * A payload of 32 MiB of empty objects (a batch body may be 64 MiB): as a tree it took some 25 times its size,
     * more than the api's heap. Copied, it is measured to its end and not kept, and reading it allocates a small
     * part of its own size.
     */
    @Test
    void aPayloadPastTheLimitIsMeasuredWithoutBeingHeld() {
        var empties = 11_000_000;
        var json = ("{\"a\":[" + "{},".repeat(empties - 1) + "{}]}").getBytes(StandardCharsets.UTF_8);
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

        Storable.Payload payload;
        var before = threads.getCurrentThreadAllocatedBytes();
        try (var parser = Json.MAPPER.createParser(json)) {
            parser.nextToken();
            payload = Storable.copy(parser, "payload", 262_144);
        }
        var allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertThat(payload.json()).isNull();
        assertThat(payload.errors()).isEmpty();
        assertThat(payload.size()).isEqualTo(json.length);
        assertThat(allocated).isLessThan(json.length / 8);
    }
}
