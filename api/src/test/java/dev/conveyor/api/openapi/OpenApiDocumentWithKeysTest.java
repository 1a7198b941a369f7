package dev.conveyor.api.openapi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.test.HttpJson;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The answers of the OpenAPI document that only an api with API keys gives: 401 and 403 on every operation, and
 * making, listing, showing and revoking keys. {@link OpenApiDocumentTest} covers the rest, against an api without keys.
 */
@ApiTest
class OpenApiDocumentWithKeysTest {

    private static final String ADMIN = "cvk_openapi-admin-0123456789abcdef0123456789abcdef";
    private static final String READER = "cvk_openapi-reader-0123456789abcdef0123456789abcdef";
    private static final String WRITER = "cvk_openapi-writer-0123456789abcdef0123456789abcdef";

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
        key(registry, 0, "admin", ADMIN, "admin");
        key(registry, 1, "reader", READER, "jobs:read");
        key(registry, 2, "writer", WRITER, "jobs:write");
    }

    private static void key(DynamicPropertyRegistry registry, int i, String id, String key, String scope) {
        ApiTests.apiKey(registry, i, id, "acme", key, scope);
    }

    /**
     * The statuses an operation answers only when the api has keys: 401 and 403 everywhere, and those of making and
     * revoking keys (without keys these answer 409).
     */
    static Set<String> onlyWithKeys(String operation) {
        var statuses = new TreeSet<>(Set.of("401", "403"));
        switch (operation) {
            case "POST /v1/keys" -> statuses.addAll(Set.of("201", "400", "413", "415"));
            case "DELETE /v1/keys/{id}" -> statuses.addAll(Set.of("200", "404"));
            case "GET /v1/keys/{id}" -> statuses.add("200");
            default -> {
            }
        }
        return statuses;
    }

    @LocalServerPort
    int port;

    private HttpJson anonymous;
    private DocumentedAnswers answers;

    @BeforeEach
    void fetchDocument() {
        anonymous = ApiTests.client(port);
        var response = anonymous.get("/v3/api-docs");
        assertThat(response.status()).as("the document needs no key").isEqualTo(200);
        answers = new DocumentedAnswers(response.json());
    }

    private static HttpJson.Response send(HttpJson client, String operation) {
        var method = operation.substring(0, operation.indexOf(' '));
        var path = operation.substring(operation.indexOf(' ') + 1).replace("{id}", UUID.randomUUID().toString());
        return switch (method) {
            case "GET" -> client.get(path);
            case "DELETE" -> client.delete(path);
            default -> client.post(path, "{}");
        };
    }

    /** The scope the document says the operation needs. */
    private String scope(String operation) {
        var requirement = answers.operations().get(operation).get("security").get(0);
        return requirement.get(OpenApiConfig.BEARER).get(0).asString();
    }

    @Test
    void everyOperationAnswers401WithoutAValidKeyAnd403WithoutItsScopeAsDocumented() {
        answers.operations().keySet().forEach(operation -> {
            answers.check(operation, send(anonymous, operation), 401);
            var wrong = send(anonymous.withKey("cvk_not-a-key"), operation);
            answers.check(operation, wrong, 401);
            assertThat(wrong.header("WWW-Authenticate")).contains("invalid_token");

            var scope = scope(operation);
            var lacking = anonymous.withKey(scope.equals("jobs:read") ? WRITER : READER);
            var refused = answers.check(operation, send(lacking, operation), 403);
            assertThat(refused.get("detail").asString()).contains(scope);
            // the scope the document names is enough: the same request with it is judged on its merits
            var holding = anonymous.withKey(switch (scope) {
                case "admin" -> ADMIN;
                case "jobs:read" -> READER;
                default -> WRITER;
            });
            assertThat(send(holding, operation).status()).as(operation + " with " + scope).isNotIn(401, 403);
        });
    }

    @Test
    void keysAreMadeListedAndRevokedAsDocumented() {
        var admin = anonymous.withKey(ADMIN);
        var made = answers.check("POST /v1/keys", admin.post("/v1/keys",
                "{\"name\": \"deploys\", \"tenant\": \"acme\", \"scopes\": [\"jobs:write\", \"jobs:read\"]}"), 201);
        var id = made.get("id").asString();
        assertThat(made.get("key").asString()).startsWith("cvk_");
        answers.check("POST /v1/keys", admin.post("/v1/keys", "{\"name\": \"\", \"scopes\": [\"root\"]}"), 400);
        answers.check("POST /v1/keys", admin.post("/v1/keys", "{\"name\": \"" + "x".repeat(70_000) + "\"}"), 413);
        answers.check("POST /v1/keys", admin.post("/v1/keys", "{}", "text/plain"), 415);

        var listed = answers.check("GET /v1/keys", admin.get("/v1/keys"), 200);
        assertThat(listed.get("keys").valueStream().map(key -> key.get("id").asString()))
                .contains(id, "admin", "reader", "writer");
        assertThat(listed.get("keys").valueStream()).allMatch(key -> key.get("key").isNull());

        var shown = answers.check("GET /v1/keys/{id}", admin.get("/v1/keys/" + id), 200);
        assertThat(shown.get("id").asString()).isEqualTo(id);
        assertThat(shown.get("key").isNull()).isTrue();
        answers.check("GET /v1/keys/{id}", admin.get("/v1/keys/no-such-key"), 404);

        var revoked = answers.check("DELETE /v1/keys/{id}", admin.delete("/v1/keys/" + id), 200);
        assertThat(revoked.get("revokedAt").isNull()).isFalse();
        answers.check("DELETE /v1/keys/{id}", admin.delete("/v1/keys/no-such-key"), 404);

        for (var operation : Set.of("POST /v1/keys", "GET /v1/keys", "GET /v1/keys/{id}", "DELETE /v1/keys/{id}")) {
            var expected = new TreeSet<>(onlyWithKeys(operation));
            expected.removeAll(Set.of("401", "403"));
            if (operation.startsWith("GET")) {
                expected.add("200");
            }
            if (operation.equals("GET /v1/keys/{id}")) {
                expected.add("404");
            }
            assertThat(answers.seen(operation)).as("statuses seen from " + operation)
                    .containsExactlyInAnyOrderElementsOf(expected);
        }
    }
}
