package dev.conveyor.api.auth;

import dev.conveyor.api.web.ApiException;
import dev.conveyor.api.web.FieldError;
import dev.conveyor.api.web.JsonAnswers;
import dev.conveyor.api.web.JsonBodies;
import dev.conveyor.common.Json;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/** {@code /v1/keys}: make, list and revoke API keys (admin). */
@RestController
@RequiresScope(Scope.ADMIN)
class KeysController {

    private static final Set<String> FIELDS = Set.of("name", "tenant", "scopes");
    private static final int MAX_BODY = 64 * 1024;

    private final ApiKeys keys;
    private final JsonAnswers answers;

    KeysController(ApiKeys keys, JsonAnswers answers) {
        this.answers = answers;
        this.keys = keys;
    }

    /** A key as the api shows it; {@code key} only in the answer that made it. */
    record KeyView(String id, String name, String tenant, List<String> scopes, String source, Instant createdAt,
            Instant revokedAt, String key) {

        static KeyView of(ApiKeys.Key key, String secret) {
            return new KeyView(key.id(), key.name(), key.tenant(), ApiKeys.names(key.scopes()), key.source(),
                    key.createdAt(), key.revokedAt(), secret);
        }

        @Override
        public String toString() {
            return "KeyView[id=" + id + ", tenant=" + tenant + ", scopes=" + scopes + "]";
        }
    }

    record Keys(List<KeyView> keys) {
    }

    @PostMapping(path = "/v1/keys", consumes = MediaType.APPLICATION_JSON_VALUE)
    void create(HttpServletRequest http, HttpServletResponse response, Caller caller) throws IOException {
        requireEnabled();
        JsonBodies.requireReadable(http, response);
        byte[] body;
        try (var in = http.getInputStream()) {
            body = in.readNBytes(MAX_BODY + 1);
        } catch (IOException e) {
            throw ApiException.invalid("body", "could not be read");
        }
        if (body.length > MAX_BODY) {
            throw new ApiException(HttpStatus.CONTENT_TOO_LARGE, "payload-too-large", "Request too large",
                    "The request body is larger than " + MAX_BODY + " bytes", List.of());
        }
        // an admin key revoked while its body arrived makes no key that would outlive it
        keys.requireStillActive(caller, response);
        JsonBodies.requireUtf8(body);
        JsonNode request;
        try {
            request = Json.MAPPER.reader().with(tools.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .readTree(body);
        } catch (JacksonException e) {
            throw ApiException.invalid("body", "is not valid JSON: " + e.getOriginalMessage());
        }
        if (request == null || !request.isObject()) {
            throw ApiException.invalid("body", "must be a JSON object with name, tenant and scopes");
        }
        var errors = new ArrayList<FieldError>();
        request.propertyNames().stream().filter(name -> !FIELDS.contains(name))
                .forEach(name -> errors.add(FieldError.unknown("", name)));
        var name = text(request.get("name"));
        if (name == null || name.isEmpty() || name.length() > 100 || !printable(name)) {
            errors.add(new FieldError("name", "must be 1 to 100 printable characters"));
        }
        var tenant = text(request.get("tenant"));
        if (tenant == null || !AuthProperties.TENANT.matcher(tenant).matches()) {
            errors.add(new FieldError("tenant", "must match " + AuthProperties.TENANT.pattern()));
        }
        var scopes = EnumSet.noneOf(Scope.class);
        var scopeValues = request.get("scopes");
        if (scopeValues == null || !scopeValues.isArray() || scopeValues.isEmpty()) {
            errors.add(new FieldError("scopes", "must be a non-empty array of jobs:write, jobs:read, admin"));
        } else {
            for (var i = 0; i < scopeValues.size(); i++) {
                var scope = Scope.of(text(scopeValues.get(i)));
                if (scope.isEmpty()) {
                    errors.add(new FieldError("scopes[" + i + "]", "must be one of jobs:write, jobs:read, admin"));
                } else {
                    scopes.add(scope.get());
                }
            }
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        var created = keys.create(name, tenant, scopes);
        // the secret is shown once, here: answered as JSON whatever the request accepts, never lost to a 406
        response.setHeader(HttpHeaders.LOCATION, "/v1/keys/" + created.key().id());
        // the answer holds the secret: no cache or proxy along the way may keep a copy
        response.setHeader(HttpHeaders.CACHE_CONTROL, "no-store");
        answers.write(response, HttpStatus.CREATED, KeyView.of(created.key(), created.secret()));
    }

    /** JSON whatever the request accepts, as the key made is: Spring MVC answered YAML when asked. */
    @GetMapping("/v1/keys")
    void list(HttpServletResponse response) throws IOException {
        answers.write(response, HttpStatus.OK, new Keys(keys.list().stream().map(key -> KeyView.of(key, null))
                .toList()));
    }

    /** The key that {@code POST /v1/keys}'s {@code Location} names, as the list shows it. */
    @GetMapping("/v1/keys/{id}")
    void show(@PathVariable String id, HttpServletResponse response) throws IOException {
        requireKnownShape(id);
        var key = keys.find(id).map(found -> KeyView.of(found, null))
                .orElseThrow(() -> ApiException.notFound("No key " + id));
        answers.write(response, HttpStatus.OK, key);
    }

    @DeleteMapping("/v1/keys/{id}")
    void revoke(@PathVariable String id, HttpServletResponse response) throws IOException {
        requireEnabled();
        requireKnownShape(id);
        var revoked = keys.revoke(id).map(key -> KeyView.of(key, null))
                .orElseThrow(() -> ApiException.notFound("No key " + id));
        answers.write(response, HttpStatus.OK, revoked);
    }

    /** An id no key can have is not echoed back whole. */
    private static void requireKnownShape(String id) {
        if (!AuthProperties.ID.matcher(id).matches()) {
            throw ApiException.notFound("No key " + id.substring(0, Math.min(id.length(), 64)));
        }
    }

    private void requireEnabled() {
        if (!keys.enabled()) {
            throw ApiException.conflict("keys-disabled", "API keys are off",
                    "The api runs without keys (open, on loopback): configure at least one admin key in "
                            + "conveyor.api.auth.keys to make and revoke keys");
        }
    }

    private static String text(JsonNode node) {
        return node != null && node.isString() ? node.asString() : null;
    }

    private static boolean printable(String text) {
        return text.codePoints().noneMatch(c -> Character.isISOControl(c) || Character.getType(c) == Character.SURROGATE);
    }
}
