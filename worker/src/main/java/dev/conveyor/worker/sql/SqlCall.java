package dev.conveyor.worker.sql;

import dev.conveyor.common.JsonNumbers;
import dev.conveyor.common.handler.JobFailure;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/** An {@code sql} job's payload, checked against its statement: every problem is final and names the field. */
record SqlCall(SqlJobHandler.Prepared statement, JsonNode params) {

    private static final Set<String> FIELDS = Set.of("statement", "params");

    static SqlCall from(JsonNode payload, Map<String, SqlJobHandler.Prepared> statements) {
        if (payload == null || !payload.isObject()) {
            throw JobFailure.notRetryable("payload must be an object {\"statement\": \"name\", \"params\": {...}}");
        }
        for (var field : payload.propertyNames()) {
            if (!FIELDS.contains(field)) {
                throw JobFailure.notRetryable("payload." + field + " is not a field of an sql job (it has "
                        + FIELDS + ")");
            }
        }
        var name = payload.get("statement");
        if (name == null || !name.isString()) {
            throw JobFailure.notRetryable("payload.statement is required: the name of a configured statement, one of "
                    + SqlJobHandler.names(statements));
        }
        var statement = statements.get(name.asString());
        if (statement == null) {
            throw JobFailure.notRetryable("payload.statement: unknown statement '" + name.asString()
                    + "'; this worker runs " + SqlJobHandler.names(statements));
        }
        var params = payload.get("params");
        if (params == null || params.isNull()) {
            params = dev.conveyor.common.Json.object();
        }
        if (!params.isObject()) {
            throw JobFailure.notRetryable("payload.params must be an object of parameter name to value");
        }
        var wanted = new HashSet<>(statement.sql().parameterNames());
        for (var param : wanted) {
            if (!params.has(param)) {
                throw JobFailure.notRetryable("payload.params." + param + " is missing: statement '"
                        + statement.name() + "' takes " + wanted);
            }
        }
        for (var given : params.propertyNames()) {
            if (!wanted.contains(given)) {
                throw JobFailure.notRetryable("payload.params." + given + " is not a parameter of statement '"
                        + statement.name() + "' (it takes " + wanted + ")");
            }
            // read exactly, 1e999999 binds as a numeric that PostgreSQL refuses; and a double can be infinite
            var value = params.get(given);
            if (value.isBigDecimal() ? !JsonNumbers.storable(value.decimalValue())
                    : value.isFloatingPointNumber() && !Double.isFinite(value.asDouble())) {
                throw JobFailure.notRetryable("payload.params." + given + " is a number beyond what a parameter "
                        + "binds (at most " + JsonNumbers.MAX_CHARS + " characters written out); send it as text");
            }
        }
        return new SqlCall(statement, params);
    }
}
