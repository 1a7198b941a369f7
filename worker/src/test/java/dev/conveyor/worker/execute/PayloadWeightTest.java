package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.Json;
import dev.conveyor.common.message.JobDispatch;
import java.nio.charset.StandardCharsets;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.openjdk.jol.info.GraphLayout;
import tools.jackson.databind.JsonNode;

/**
 * What a payload's tree holds on the heap, as the worker weighs it for {@code max-in-flight-bytes}, against what JOL
 * measures of the same tree: never less (the bound errs on the heap's side), and for ordinary payloads not many times
 * more (the bound does not hold back ordinary jobs). Before, a job weighed its record's bytes alone, and 240 KB of
 * {@code [{},{},...]} hold 7 MB: 200 such jobs took a worker with a 512 MiB heap to {@code OutOfMemoryError}.
 */
class PayloadWeightTest {

    static {
        // JOL reads the layout through Unsafe; attaching the serviceability agent as well costs seconds, nothing more
        System.setProperty("jol.skipHotspotSAAttach", "true");
    }

    private static String repeat(String element, int times) {
        return IntStream.range(0, times).mapToObj(n -> element.replace("#", Integer.toString(n)))
                .collect(Collectors.joining(","));
    }

    /** Shapes of many tiny values, each taking many times its JSON once read. */
    @ParameterizedTest
    @ValueSource(strings = {"empty objects", "empty arrays", "numbers", "small numbers", "decimals", "big integers",
            "big decimals", "unique keys", "short strings", "booleans and nulls", "deep objects"})
    void aPayloadOfTinyValuesWeighsNoLessThanItsTree(String shape) {
        var payload = switch (shape) {
            case "empty objects" -> "{\"pad\": [" + repeat("{}", 2_000) + "]}";
            case "empty arrays" -> "{\"pad\": [" + repeat("[]", 2_000) + "]}";
            case "numbers" -> "{\"pad\": [" + repeat("100#", 2_000) + "]}";
            case "small numbers" -> "{\"pad\": [" + repeat("0", 2_000) + "]}";
            case "decimals" -> "{\"pad\": [" + repeat("1.#", 2_000) + "]}";
            case "big integers" -> "{\"pad\": [" + repeat("123456789012345678901234567890#", 500) + "]}";
            case "big decimals" -> "{\"pad\": [" + repeat("1.23456789012345678901234567890#", 500) + "]}";
            case "unique keys" -> "{" + repeat("\"k#\": 1", 2_000) + "}";
            case "short strings" -> "{\"pad\": [" + repeat("\"é#\"", 2_000) + "]}";
            case "booleans and nulls" -> "{\"pad\": [" + repeat("true, false, null", 1_000) + "]}";
            case "deep objects" -> "{\"a\": ".repeat(470) + "1" + "}".repeat(470);
            default -> throw new IllegalArgumentException(shape);
        };
        var measured = measure(shape, payload);
        assertThat(measured.weight()).as("the weight of %s", shape).isGreaterThanOrEqualTo(measured.heap());
    }

    @ParameterizedTest
    @ValueSource(strings = {"an email", "an http call", "an order", "a long text", "a long text beyond Latin-1"})
    void anOrdinaryPayloadWeighsAboutItsTree(String shape) {
        var payload = switch (shape) {
            case "an email" -> "{\"to\": \"ada@example.com\", \"subject\": \"Your invoice\", \"template\": \"invoice\","
                    + " \"locale\": \"en-GB\", \"invoiceId\": 123456}";
            case "an http call" -> "{\"method\": \"POST\", \"url\": \"https://api.example.org/v1/hooks/42\", "
                    + "\"headers\": {\"Content-Type\": \"application/json\", \"X-Request-Id\": \"c0ffee\"}, "
                    + "\"body\": \"{\\\"event\\\": \\\"paid\\\"}\", \"timeoutMs\": 10000}";
            case "an order" -> "{\"orderId\": \"A-1\", \"items\": [" + repeat("{\"sku\": \"SKU-#\", \"qty\": 2, "
                    + "\"price\": 19.99}", 50) + "], \"total\": 1999.0, \"paid\": true}";
            case "a long text" -> "{\"body\": \"" + "x".repeat(200_000) + "\"}";
            case "a long text beyond Latin-1" -> "{\"body\": \"" + "x".repeat(100_000) + "é\"}";
            default -> throw new IllegalArgumentException(shape);
        };
        var measured = measure(shape, payload);
        assertThat(measured.weight()).as("the weight of %s", shape).isGreaterThanOrEqualTo(measured.heap())
                .isLessThan(measured.heap() * 5 / 2);
    }

    /** What the worker weighs a payload at, and what JOL finds its tree holds. */
    private record Measured(long weight, long heap) {
    }

    private static Measured measure(String shape, String payload) {
        var tree = read(payload);
        var measured = new Measured(weigh(tree), GraphLayout.parseInstance(tree).totalSize());
        System.out.printf("[payload-weight] %s: JSON %,d bytes, tree %,d bytes on the heap, weighed %,d%n", shape,
                bytes(payload), measured.heap(), measured.weight());
        return measured;
    }

    /** The payload as the worker reads it: within its job's record. */
    private static JsonNode read(String payload) {
        var record = Json.write(RunnerTesting.dispatch("echo", Json.MAPPER.readTree(payload), 60));
        return Json.read(record, JobDispatch.class).payload();
    }

    private static long weigh(JsonNode payload) {
        var checked = DispatchCheck.check(RunnerTesting.dispatch("echo", payload, 60));
        assertThat(checked.problem()).isNull();
        return checked.payloadBytes();
    }

    private static int bytes(String json) {
        return json.getBytes(StandardCharsets.UTF_8).length;
    }
}
