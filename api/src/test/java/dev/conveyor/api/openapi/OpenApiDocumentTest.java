package dev.conveyor.api.openapi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.api.auth.RequiresScope;
import dev.conveyor.common.JobLimits;
import dev.conveyor.common.Json;
import dev.conveyor.common.test.HttpJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
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
import org.springframework.core.annotation.AnnotatedElementUtils;
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

    /**
     * The names and limits a submission is checked against are {@link JobLimits}', which a worker checks the records
     * it reads against too: the document spells out no pattern or maximum of its own that could drift from them.
     */
    @Test
    void namesThePatternsAndMaximaOfJobLimits() {
        var schemas = document.get("components").get("schemas");
        var submit = schemas.get("SubmitRequest").get("properties");
        var type = "^" + JobLimits.TYPE_PATTERN + "$";
        var queue = "^" + JobLimits.QUEUE_PATTERN + "$";

        assertThat(submit.get("type").get("pattern").asString()).isEqualTo(type);
        assertThat(submit.get("queue").get("pattern").asString()).isEqualTo(queue);
        assertThat(submit.get("timeoutSeconds").get("maximum").asLong()).isEqualTo(JobLimits.MAX_TIMEOUT_SECONDS);
        assertThat(submit.get("maxAttempts").get("maximum").asLong()).isEqualTo(JobLimits.MAX_ATTEMPTS);
        assertThat(submit.get("delaySeconds").get("maximum").asLong()).isEqualTo(JobLimits.MAX_DELAY_SECONDS);
        assertThat(submit.get("idempotencyKey").get("maxLength").asInt()).isEqualTo(JobLimits.MAX_IDEMPOTENCY_KEY);
        assertThat(schemas.get("BatchRequest").get("properties").get("jobs").get("maxItems").asInt())
                .isEqualTo(JobLimits.MAX_BATCH);
        assertThat(schemas.get("KeyRequest").get("properties").get("tenant").get("pattern").asString())
                .as("a tenant's name is a queue's").isEqualTo(queue);
        var patterns = new ArrayList<String>();
        patterns(document, patterns);
        assertThat(patterns).as("every pattern of the document").containsOnly(type, queue);
    }

    private static void patterns(JsonNode node, List<String> found) {
        if (node.isObject()) {
            node.properties().forEach(field -> {
                if (field.getKey().equals("pattern") && field.getValue().isString()) {
                    found.add(field.getValue().asString());
                } else {
                    patterns(field.getValue(), found);
                }
            });
        } else if (node.isArray()) {
            node.forEach(element -> patterns(element, found));
        }
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
     * Calls every operation so that it answers each documented status except 503 (the store being away) and those
     * that need API keys configured ({@link OpenApiDocumentWithKeysTest}), and checks each answer's content type and
     * body against the document.
     */
    @Test
    void everyOperationAnswersAsDocumented() {
        var answers = new DocumentedAnswers(document);
        var key = "key-" + UUID.randomUUID();
        var submit = "{\"type\":\"echo\",\"payload\":{\"n\":1},\"idempotencyKey\":\"" + key + "\"}";
        var job = answers.check("POST /v1/jobs", http.post("/v1/jobs", submit), 202);
        assertThat(answers.check("POST /v1/jobs", http.post("/v1/jobs", submit), 200).get("id")).isEqualTo(job.get("id"));
        answers.check("POST /v1/jobs", http.post("/v1/jobs", submit.replace("\"n\":1", "\"n\":2")), 409);
        answers.check("POST /v1/jobs", http.post("/v1/jobs", "{\"queue\":\"Bad!\"}"), 400);
        answers.check("POST /v1/jobs", http.post("/v1/jobs", "{\"type\":\"echo\",\"payload\":{\"s\":\""
                + "x".repeat(300_000) + "\"}}"), 413);
        answers.check("POST /v1/jobs", http.post("/v1/jobs", submit, "text/plain"), 415);

        var batch = "/v1/jobs/batch";
        answers.check("POST " + batch, http.post(batch, "{\"jobs\":[{\"type\":\"echo\"},{\"type\":\"sleep\","
                + "\"payload\":{\"ms\":1}}]}"), 202);
        answers.check("POST " + batch, http.post(batch, "{\"jobs\":[{\"type\":\"echo\"},{\"type\":\"\"}]}"), 400);
        answers.check("POST " + batch, http.post(batch, "{\"jobs\":[{\"type\":\"echo\",\"idempotencyKey\":\"" + key
                + "\"}]}"), 409);
        answers.check("POST " + batch, http.post(batch, "{\"jobs\":[{\"type\":\"echo\",\"payload\":{\"s\":\""
                + "x".repeat(300_000) + "\"}}]}"), 413);
        answers.check("POST " + batch, http.post(batch, "{}", "text/plain"), 415);

        var id = job.get("id").asString();
        answers.check("GET /v1/jobs/{id}", http.get("/v1/jobs/" + id + "?wait=0.1"), 200);
        answers.check("GET /v1/jobs/{id}", http.get("/v1/jobs/" + id + "?view=summary"), 200);
        answers.check("GET /v1/jobs/{id}", http.get("/v1/jobs/not-a-uuid"), 400);
        answers.check("GET /v1/jobs/{id}", http.get("/v1/jobs/" + UUID.randomUUID()), 404);
        var page = answers.check("GET /v1/jobs", http.get("/v1/jobs?queue=default&limit=1"), 200);
        answers.check("GET /v1/jobs", http.get("/v1/jobs?after=" + page.get("next").asString() + "&type=echo"), 200);
        var summaries = answers.check("GET /v1/jobs", http.get("/v1/jobs?limit=1&view=summary"), 200);
        assertThat(summaries.get("jobs").get(0).has("payload")).isFalse();
        answers.check("GET /v1/jobs", http.get("/v1/jobs?limit=0&status=DONE"), 400);

        // no worker runs here: the job is QUEUED, so cancel ends it at once, and then it can be retried
        answers.check("POST /v1/jobs/{id}/retry", http.post("/v1/jobs/" + id + "/retry", ""), 409);
        answers.check("POST /v1/jobs/{id}/cancel", http.post("/v1/jobs/" + id + "/cancel", ""), 202);
        answers.check("POST /v1/jobs/{id}/cancel", http.post("/v1/jobs/" + id + "/cancel", ""), 409);
        answers.check("POST /v1/jobs/{id}/retry", http.post("/v1/jobs/" + id + "/retry", ""), 202);
        for (var action : new String[] {"cancel", "retry"}) {
            answers.check("POST /v1/jobs/{id}/" + action, http.post("/v1/jobs/x/" + action, ""), 400);
            answers.check("POST /v1/jobs/{id}/" + action, http.post("/v1/jobs/" + UUID.randomUUID() + "/" + action,
                    ""), 404);
        }
        answers.check("GET /v1/queues", http.get("/v1/queues"), 200);
        answers.check("GET /v1/stats", http.get("/v1/stats"), 200);
        answers.check("GET /v1/workers", http.get("/v1/workers"), 200);

        // without keys configured, keys can be neither made nor revoked
        var made = answers.check("POST /v1/keys", http.post("/v1/keys",
                "{\"name\": \"ci\", \"tenant\": \"acme\", \"scopes\": [\"jobs:read\"]}"), 409);
        assertThat(made.get("type").asString()).endsWith("/keys-disabled");
        answers.check("GET /v1/keys", http.get("/v1/keys"), 200);
        answers.check("GET /v1/keys/{id}", http.get("/v1/keys/ci"), 404);
        answers.check("DELETE /v1/keys/{id}", http.delete("/v1/keys/ci"), 409);

        answers.operations().keySet().forEach(operation -> {
            var documented = answers.documented(operation);
            documented.remove("503");
            documented.remove("504"); // a database gone silent: SilentStoreTest
            documented.remove("429"); // the limits' answers: LimitsTest checks them against this document
            documented.removeAll(OpenApiDocumentWithKeysTest.onlyWithKeys(operation));
            assertThat(answers.seen(operation)).as("statuses seen from " + operation)
                    .containsExactlyInAnyOrderElementsOf(documented);
        });
    }

    @Test
    void everyOperationNeedsAnApiKeyWithTheScopeItsHandlerRequires(
            @Autowired @Qualifier("requestMappingHandlerMapping") RequestMappingHandlerMapping mappings) {
        var scheme = document.get("components").get("securitySchemes").get(OpenApiConfig.BEARER);
        assertThat(scheme.get("type").asString()).isEqualTo("http");
        assertThat(scheme.get("scheme").asString()).isEqualTo("bearer");
        var operations = operations();
        mappings.getHandlerMethods().forEach((info, handler) -> info.getPatternValues().stream()
                .filter(path -> path.startsWith("/v1/"))
                .forEach(path -> info.getMethodsCondition().getMethods().forEach(method -> {
                    var required = AnnotatedElementUtils.findMergedAnnotation(handler.getMethod(), RequiresScope.class);
                    if (required == null) {
                        required = AnnotatedElementUtils.findMergedAnnotation(handler.getBeanType(),
                                RequiresScope.class);
                    }
                    var operation = method.name() + " " + path;
                    assertThat(required).as(operation + " declares a scope").isNotNull();
                    var security = operations.get(operation).get("security");
                    assertThat(Json.write(security)).as(operation).isEqualTo("[{\"" + OpenApiConfig.BEARER + "\":[\""
                            + required.value().value() + "\"]}]");
                    assertThat(operations.get(operation).get("responses").propertyNames()).as(operation)
                            .contains("401", "403");
                })));
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

    private Map<String, JsonNode> operations() {
        return new DocumentedAnswers(document).operations();
    }

    private static JsonNode ref(String name) {
        return Json.tree("{\"$ref\":\"" + Schemas.REF + name + "\"}");
    }
}
