package dev.conveyor.api.openapi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.test.HttpJson;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import tools.jackson.databind.JsonNode;

/**
 * Checks live answers against the OpenAPI document (status documented, content type, body shape, headers) and
 * records which statuses each operation was seen to answer.
 */
final class DocumentedAnswers {

    private final JsonNode document;
    private final Map<String, Set<String>> seen = new LinkedHashMap<>();

    DocumentedAnswers(JsonNode document) {
        this.document = document;
    }

    /** The operations of the document by {@code "METHOD /path"}. */
    Map<String, JsonNode> operations() {
        var operations = new LinkedHashMap<String, JsonNode>();
        document.get("paths").properties().forEach(path -> path.getValue().properties().forEach(
                operation -> operations.put(operation.getKey().toUpperCase() + " " + path.getKey(),
                        operation.getValue())));
        return operations;
    }

    /** The statuses the document gives for the operation. */
    Set<String> documented(String operation) {
        return new TreeSet<>(operations().get(operation).get("responses").propertyNames());
    }

    /** The statuses the operation was seen to answer so far. */
    Set<String> seen(String operation) {
        return seen.getOrDefault(operation, Set.of());
    }

    /** Asserts the status, and that content type and body are those the document gives for it; returns the body. */
    JsonNode check(String operation, HttpJson.Response response, int status) {
        assertThat(response.status()).as(operation + ": " + response.text()).isEqualTo(status);
        seen.computeIfAbsent(operation, o -> new LinkedHashSet<>()).add(String.valueOf(status));
        var documented = operations().get(operation).get("responses").get(String.valueOf(status));
        assertThat(documented).as(operation + " documents " + status).isNotNull();
        var mediaType = documented.get("content").propertyNames().iterator().next();
        assertThat(response.contentType()).as(operation + " " + status).startsWith(mediaType);
        var body = response.json();
        assertThat(new Shapes(document).problems(body, documented.get("content").get(mediaType).get("schema"), "body"))
                .as(operation + " " + status + ": " + response.text()).isEmpty();
        documented.path("headers").propertyNames().stream().filter(header -> !header.equals("Retry-After"))
                .forEach(header -> assertThat(response.header(header)).as(operation + " " + status + " " + header)
                        .isNotNull());
        return body;
    }
}
