package dev.conveyor.api.openapi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.Json;
import dev.conveyor.common.test.HttpJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;
import tools.jackson.databind.JsonNode;

/**
 * The OpenAPI document at {@code /v3/api-docs} against the live endpoints, against docs/api.md, and (where the
 * checkout has it beside it) against the contract it was written from.
 */
@ApiTest
class OpenApiDocumentTest {

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
    }

    @LocalServerPort
    int port;

    private HttpJson http;
    private JsonNode document;

    @BeforeEach
    void fetchDocument() throws Exception {
        http = ApiTests.client(port);
        var response = http.get("/v3/api-docs");
        assertThat(response.status()).as(response.text()).isEqualTo(200);
        document = response.json();
        Files.writeString(Path.of("target", "openapi.json"), response.text()); // to read after a run
    }

    @Test
    void isAnOpenApi31DocumentOfV1Only() {
        assertThat(document.get("openapi").asString()).startsWith("3.1.");
        assertThat(document.get("paths").propertyNames()).allMatch(path -> path.startsWith("/v1/"));
        assertThat(http.get("/v3/api-docs.yaml").text()).startsWith("openapi: 3.1.");
    }

    @Test
    void documentsEveryMappingUnderV1(
            @Autowired @Qualifier("requestMappingHandlerMapping") RequestMappingHandlerMapping mappings) {
        var mapped = new TreeSet<String>();
        mappings.getHandlerMethods().keySet().forEach(info -> info.getPatternValues().stream()
                .filter(path -> path.startsWith("/v1/"))
                .forEach(path -> info.getMethodsCondition().getMethods()
                        .forEach(method -> mapped.add(method.name() + " " + path))));
        assertThat(operations().keySet()).containsExactlyInAnyOrderElementsOf(mapped);
        assertThat(Operations.all().keySet()).as("every mapping has its responses written out")
                .containsExactlyInAnyOrderElementsOf(mapped);
    }

    @Test
    void saysWhatDocsApiMdSays() {
        var reference = ApiReference.read();
        var operations = operations();
        assertThat(reference.endpoints().keySet()).containsExactlyInAnyOrderElementsOf(operations.keySet());
        operations.forEach((key, operation) -> {
            var endpoint = reference.endpoints().get(key);
            assertThat(operation.get("responses").propertyNames()).as("statuses of " + key)
                    .containsExactlyInAnyOrderElementsOf(endpoint.statuses());
            var parameters = new LinkedHashSet<String>();
            var headers = new LinkedHashSet<String>();
            operation.path("parameters").forEach(parameter -> (parameter.get("in").asString().equals("header")
                    ? headers : parameters).add(parameter.get("name").asString()));
            operation.get("responses").forEach(response -> headers.addAll(response.path("headers").propertyNames()));
            assertThat(parameters).as("parameters of " + key).containsExactlyInAnyOrderElementsOf(
                    endpoint.parameters());
            assertThat(headers).as("headers of " + key).containsExactlyInAnyOrderElementsOf(endpoint.headers());
        });
        var schemas = document.get("components").get("schemas");
        assertThat(reference.schemas().keySet()).containsExactlyInAnyOrderElementsOf(schemas.propertyNames());
        reference.schemas().forEach((name, fields) -> assertThat(schemas.get(name).get("properties").propertyNames())
                .as("fields of " + name).containsExactlyElementsOf(fields));
    }

    @Test
    void agreesWithTheContractWhereTheCheckoutHasIt() throws Exception {
        var contract = Path.of("..", "..", "shared", "contract.md");
        Assumptions.assumeTrue(Files.exists(contract), "no ../shared/contract.md beside this checkout (CI may lack it)");
        var text = Files.readString(contract);
        var endpoints = new HashSet<String>();
        var heading = Pattern.compile("^### (GET|POST) (/v1/\\S+?):?(\\s|$)", Pattern.MULTILINE).matcher(text);
        while (heading.find()) {
            endpoints.add(heading.group(1) + " " + heading.group(2));
        }
        assertThat(endpoints).hasSizeGreaterThanOrEqualTo(8);
        assertThat(operations().keySet()).containsAll(endpoints);
        var submitFields = new HashSet<String>();
        var row = Pattern.compile("^\\| `(\\w+)` \\| ", Pattern.MULTILINE)
                .matcher(text.substring(text.indexOf("### POST /v1/jobs:"), text.indexOf("### POST /v1/jobs/batch")));
        while (row.find()) {
            submitFields.add(row.group(1));
        }
        assertThat(new Shapes(document).schema("SubmitRequest").get("properties").propertyNames())
                .containsExactlyInAnyOrderElementsOf(submitFields);
        var example = text.substring(text.indexOf("```json", text.indexOf("## Job")) + 7);
        var job = Json.tree(example.substring(0, example.indexOf("```")));
        assertThat(new Shapes(document).problems(job, ref("Job"), "job"))
                .as("the contract's example Job (it has no progress, an addition)")
                .containsExactly("job.progress: documented as required, missing");
    }

    /**
     * Calls every operation so that it answers each documented status except 503 (the store being away), and checks
     * each answer's content type and body against the document.
     */
    @Test
    void everyOperationAnswersAsDocumented() {
        var seen = new LinkedHashMap<String, Set<String>>();
        var key = "key-" + UUID.randomUUID();
        var submit = "{\"type\":\"echo\",\"payload\":{\"n\":1},\"idempotencyKey\":\"" + key + "\"}";
        var job = check(seen, "POST /v1/jobs", http.post("/v1/jobs", submit), 202);
        assertThat(check(seen, "POST /v1/jobs", http.post("/v1/jobs", submit), 200).get("id")).isEqualTo(job.get("id"));
        check(seen, "POST /v1/jobs", http.post("/v1/jobs", submit.replace("\"n\":1", "\"n\":2")), 409);
        check(seen, "POST /v1/jobs", http.post("/v1/jobs", "{\"queue\":\"Bad!\"}"), 400);
        check(seen, "POST /v1/jobs", http.post("/v1/jobs", "{\"type\":\"echo\",\"payload\":{\"s\":\""
                + "x".repeat(300_000) + "\"}}"), 413);
        check(seen, "POST /v1/jobs", http.post("/v1/jobs", submit, "text/plain"), 415);

        var batch = "/v1/jobs/batch";
        check(seen, "POST " + batch, http.post(batch, "{\"jobs\":[{\"type\":\"echo\"},{\"type\":\"sleep\","
                + "\"payload\":{\"ms\":1}}]}"), 202);
        check(seen, "POST " + batch, http.post(batch, "{\"jobs\":[{\"type\":\"echo\"},{\"type\":\"\"}]}"), 400);
        check(seen, "POST " + batch, http.post(batch, "{\"jobs\":[{\"type\":\"echo\",\"idempotencyKey\":\"" + key
                + "\"}]}"), 409);
        check(seen, "POST " + batch, http.post(batch, "{\"jobs\":[{\"type\":\"echo\",\"payload\":{\"s\":\""
                + "x".repeat(300_000) + "\"}}]}"), 413);
        check(seen, "POST " + batch, http.post(batch, "{}", "text/plain"), 415);

        var id = job.get("id").asString();
        check(seen, "GET /v1/jobs/{id}", http.get("/v1/jobs/" + id + "?wait=0.1"), 200);
        check(seen, "GET /v1/jobs/{id}", http.get("/v1/jobs/not-a-uuid"), 400);
        check(seen, "GET /v1/jobs/{id}", http.get("/v1/jobs/" + UUID.randomUUID()), 404);
        var page = check(seen, "GET /v1/jobs", http.get("/v1/jobs?queue=default&limit=1"), 200);
        check(seen, "GET /v1/jobs", http.get("/v1/jobs?after=" + page.get("next").asString() + "&type=echo"), 200);
        check(seen, "GET /v1/jobs", http.get("/v1/jobs?limit=0&status=DONE"), 400);

        // no worker runs here: the job is QUEUED, so cancel ends it at once, and then it can be retried
        check(seen, "POST /v1/jobs/{id}/retry", http.post("/v1/jobs/" + id + "/retry", ""), 409);
        check(seen, "POST /v1/jobs/{id}/cancel", http.post("/v1/jobs/" + id + "/cancel", ""), 202);
        check(seen, "POST /v1/jobs/{id}/cancel", http.post("/v1/jobs/" + id + "/cancel", ""), 409);
        check(seen, "POST /v1/jobs/{id}/retry", http.post("/v1/jobs/" + id + "/retry", ""), 202);
        for (var action : new String[] {"cancel", "retry"}) {
            check(seen, "POST /v1/jobs/{id}/" + action, http.post("/v1/jobs/x/" + action, ""), 400);
            check(seen, "POST /v1/jobs/{id}/" + action, http.post("/v1/jobs/" + UUID.randomUUID() + "/" + action,
                    ""), 404);
        }
        check(seen, "GET /v1/queues", http.get("/v1/queues"), 200);
        check(seen, "GET /v1/stats", http.get("/v1/stats"), 200);
        check(seen, "GET /v1/workers", http.get("/v1/workers"), 200);

        operations().forEach((operation, described) -> {
            var documented = new TreeSet<>(described.get("responses").propertyNames());
            documented.remove("503");
            assertThat(seen.get(operation)).as("statuses seen from " + operation)
                    .containsExactlyInAnyOrderElementsOf(documented);
        });
    }

    @Test
    void springdocServesItsOwnPathsAndTouchesNoOtherRequest(@Autowired ApplicationContext context) {
        var ui = http.get("/swagger-ui.html");
        assertThat(ui.status()).isEqualTo(302);
        assertThat(ui.header("Location")).endsWith("/swagger-ui/index.html");
        assertThat(http.get("/swagger-ui/index.html").status()).isEqualTo(200);
        assertThat(http.get("/v3/api-docs/swagger-config").json().get("url").asString()).isEqualTo("/v3/api-docs");
        // the root stays free for the dashboard
        assertThat(http.get("/").header("Location")).as("/ is not sent to springdoc").isNull();
        assertThat(document.get("paths").propertyNames()).noneMatch(path -> path.startsWith("/actuator"));
        // no filter or interceptor of springdoc's: other requests do not pass through it
        assertThat(context.getBeansOfType(jakarta.servlet.Filter.class).values())
                .noneMatch(bean -> bean.getClass().getName().startsWith("org.springdoc"));
        assertThat(context.getBeansOfType(HandlerInterceptor.class).values())
                .noneMatch(bean -> bean.getClass().getName().startsWith("org.springdoc"));
    }

    /** The operations of the document by {@code "METHOD /path"}. */
    private Map<String, JsonNode> operations() {
        var operations = new LinkedHashMap<String, JsonNode>();
        document.get("paths").properties().forEach(path -> path.getValue().properties().forEach(
                operation -> operations.put(operation.getKey().toUpperCase() + " " + path.getKey(),
                        operation.getValue())));
        return operations;
    }

    private static JsonNode ref(String name) {
        return Json.tree("{\"$ref\":\"" + Schemas.REF + name + "\"}");
    }

    /** Asserts the status, and that content type and body are those the document gives for it; returns the body. */
    private JsonNode check(Map<String, Set<String>> seen, String operation, HttpJson.Response response, int status) {
        assertThat(response.status()).as(operation + ": " + response.text()).isEqualTo(status);
        seen.computeIfAbsent(operation, o -> new LinkedHashSet<>()).add(String.valueOf(status));
        var documented = operations().get(operation).get("responses").get(String.valueOf(status));
        assertThat(documented).as(operation + " documents " + status).isNotNull();
        var mediaType = documented.get("content").propertyNames().iterator().next();
        assertThat(response.contentType()).as(operation + " " + status).startsWith(mediaType);
        var body = response.json();
        var shapes = new Shapes(document);
        assertThat(shapes.problems(body, documented.get("content").get(mediaType).get("schema"), "body"))
                .as(operation + " " + status + ": " + response.text()).isEmpty();
        documented.path("headers").propertyNames().stream().filter(header -> !header.equals("Retry-After"))
                .forEach(header -> assertThat(response.header(header)).as(operation + " " + status + " " + header)
                        .isNotNull());
        return body;
    }
}
