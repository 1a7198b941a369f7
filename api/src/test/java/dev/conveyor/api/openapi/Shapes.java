package dev.conveyor.api.openapi;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * Checks a JSON value against a schema of the OpenAPI document, for the parts the document uses: {@code $ref},
 * {@code type} (a name or a list of names), {@code properties} and {@code required}, {@code items}, {@code oneOf}, {@code enum}.
 * An object may hold no property the schema does not name: an undocumented field is a failure.
 */
final class Shapes {

    private final JsonNode components;

    Shapes(JsonNode document) {
        this.components = document.path("components").path("schemas");
    }

    /** Everything wrong with the value, each naming its place; empty when it fits. */
    List<String> problems(JsonNode value, JsonNode schema, String at) {
        var problems = new ArrayList<String>();
        check(value, schema, at, problems);
        return problems;
    }

    JsonNode schema(String name) {
        return components.path(name);
    }

    private void check(JsonNode value, JsonNode schema, String at, List<String> problems) {
        if (schema.has("$ref")) {
            check(value, schema(schema.get("$ref").asString().substring(Schemas.REF.length())), at, problems);
            return;
        }
        if (schema.has("oneOf")) {
            for (var branch : schema.get("oneOf")) {
                if (problems(value, branch, at).isEmpty()) {
                    return;
                }
            }
            problems.add(at + ": fits none of " + schema.get("oneOf"));
            return;
        }
        if (schema.has("type")) {
            var types = new HashSet<String>();
            var type = schema.get("type");
            if (type.isArray()) {
                type.forEach(t -> types.add(t.asString()));
            } else {
                types.add(type.asString());
            }
            if (!types.contains(typeOf(value)) && !(typeOf(value).equals("integer") && types.contains("number"))) {
                problems.add(at + ": is " + typeOf(value) + ", documented " + types);
                return;
            }
        }
        if (schema.has("enum") && !value.isNull()) {
            var allowed = new HashSet<String>();
            schema.get("enum").forEach(v -> allowed.add(v.asString()));
            if (!allowed.contains(value.asString())) {
                problems.add(at + ": " + value + " is not one of " + allowed);
            }
        }
        if (value.isObject() && schema.has("properties")) {
            var properties = schema.get("properties");
            for (var name : value.propertyNames()) {
                if (!properties.has(name)) {
                    problems.add(at + "." + name + ": not documented");
                } else {
                    check(value.get(name), properties.get(name), at + "." + name, problems);
                }
            }
            schema.path("required").forEach(name -> {
                if (!value.has(name.asString())) {
                    problems.add(at + "." + name.asString() + ": documented as required, missing");
                }
            });
        }
        if (value.isArray() && schema.has("items")) {
            for (var i = 0; i < value.size(); i++) {
                check(value.get(i), schema.get("items"), at + "[" + i + "]", problems);
            }
        }
    }

    private static String typeOf(JsonNode value) {
        if (value.isNull()) {
            return "null";
        }
        if (value.isIntegralNumber()) {
            return "integer";
        }
        if (value.isNumber()) {
            return "number";
        }
        if (value.isBoolean()) {
            return "boolean";
        }
        if (value.isString()) {
            return "string";
        }
        return value.isArray() ? "array" : "object";
    }
}
