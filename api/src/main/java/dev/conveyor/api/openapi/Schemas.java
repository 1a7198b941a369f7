package dev.conveyor.api.openapi;

import dev.conveyor.common.JobLimits;
import io.swagger.v3.oas.models.media.JsonSchema;
import io.swagger.v3.oas.models.media.Schema;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The schemas of {@code /v1}, written out rather than derived from the Java types: the api reads requests as JSON
 * trees and answers JSON values (payload, result) that no Java type describes, and docs/api.md lists the same fields.
 */
final class Schemas {

    static final String REF = "#/components/schemas/";
    private static final List<String> SCOPES = List.of("jobs:write", "jobs:read", "admin");
    private static final List<String> STATUSES = List.of("SCHEDULED", "QUEUED", "RUNNING", "SUCCEEDED", "FAILED",
            "CANCELLED");

    private Schemas() {
    }

    /** Every schema of the document, by name. */
    static Map<String, Schema> all() {
        var schemas = new LinkedHashMap<String, Schema>();
        schemas.put("Job", job());
        schemas.put("JobError", jobError());
        schemas.put("Progress", progress());
        schemas.put("SubmitRequest", submitRequest());
        schemas.put("BatchRequest", object("`{\"jobs\": [...]}`: 1 to " + JobLimits.MAX_BATCH
                + " submit requests, stored all or none.",
                Map.of("jobs", array(ref("SubmitRequest"), "The jobs to submit, in order.").minItems(1)
                        .maxItems(JobLimits.MAX_BATCH))).addRequiredItem("jobs").additionalProperties(false));
        schemas.put("BatchAnswer", object("The jobs of a batch, in request order.",
                Map.of("jobs", array(ref("Job"), "One Job per submit request, in request order.")))
                .addRequiredItem("jobs"));
        schemas.put("JobSummary", jobSummary());
        schemas.put("JobPage", jobPage());
        schemas.put("Queues", object("Every queue that has jobs.",
                Map.of("queues", array(ref("QueueStats"), "One entry per queue."))).addRequiredItem("queues"));
        schemas.put("QueueStats", queueStats());
        var stats = fields(
                "at", instant("When the queue counters were read."),
                "bucketSeconds", integer("The width of one point of the series, in seconds."),
                "queues", array(ref("QueueStats"), "Every queue that has jobs, as GET /v1/queues lists them."),
                "ended", array(ref("StatsBucket"), "One point per bucket over all queues, oldest first; every bucket "
                        + "of the window is present."),
                "endedByQueue", object("The same series per queue, for the queues with an end in the window.",
                        Map.of()).additionalProperties(array(ref("StatsBucket"), "One point per bucket.")));
        schemas.put("Stats", object("What the dashboard's overview shows.", stats)
                .required(List.copyOf(stats.keySet())));
        var bucket = fields(
                "start", instant("When the bucket begins (the database's clock)."),
                "ended", count("Jobs whose end was recorded in the bucket."),
                "succeeded", count("Of those, SUCCEEDED."),
                "failed", count("Of those, FAILED."),
                "cancelled", count("Of those, CANCELLED."),
                "perSecond", number("ended divided by the bucket's width."),
                "p50Ms", nullable(number("Median milliseconds from due to recorded end, or null when none ended.")),
                "p95Ms", nullable(number("95th percentile, or null.")),
                "p99Ms", nullable(number("99th percentile, or null.")));
        schemas.put("StatsBucket", object("One point of a series.", bucket).required(List.copyOf(bucket.keySet())));
        schemas.put("Workers", object("The workers heard from within the api's worker-ttl (30 s by default).",
                Map.of("workers", array(ref("Worker"), "One entry per live worker."))).addRequiredItem("workers"));
        schemas.put("Worker", worker());
        schemas.put("KeyRequest", keyRequest());
        schemas.put("Key", key());
        schemas.put("Keys", object("Every API key, active or revoked, newest first.",
                Map.of("keys", array(ref("Key"), "One entry per key."))).addRequiredItem("keys"));
        schemas.put("Problem", problem());
        schemas.put("FieldError", object("One offending field of a request.", fields(
                "field", string("The field: `type`, `jobs[3].payload.name`, `Idempotency-Key`, `wait`, ..."),
                "message", string("What is wrong with it."))).required(List.of("field", "message")));
        return schemas;
    }

    private static Schema job() {
        var properties = fields(
                "id", string("Chosen by the server; a time-ordered UUID (version 7).").format("uuid"),
                "type", string("The job type; selects the handler."),
                "queue", string("The queue the job runs on."),
                "status", string("Where the job is in its life. SUCCEEDED, FAILED and CANCELLED are terminal.")
                        ._enum(STATUSES),
                "payload", any("The JSON object the job was submitted with.").types(types("object")),
                "result", any("The JSON value the handler returned; null unless SUCCEEDED."),
                "error", nullable(ref("JobError"), "The last failed attempt, or null."),
                "attempts", integer("Attempts started so far; an attempt whose worker died counts."),
                "maxAttempts", integer("Attempts allowed; raised by retry."),
                "timeoutSeconds", integer("Time allowed per attempt."),
                "idempotencyKey", nullable(string("The idempotency key it was submitted with, or null.")),
                "workerId", nullable(string("The worker of the current or last attempt, or null.")),
                "createdAt", instant("When the api accepted it."),
                "runAt", instant("When it is (or was) due."),
                "startedAt", nullable(instant("When the current or last attempt started, or null.")),
                "finishedAt", nullable(instant("When it ended, or null.")),
                "updatedAt", instant("When the job last changed."),
                "progress", nullable(ref("Progress"), "The last progress its running attempt reported, or null."));
        return object("A job.", properties).required(List.copyOf(properties.keySet()));
    }

    /** A Job without {@code payload} and {@code result}: the jobs of {@code GET /v1/jobs?view=summary}. */
    private static Schema jobSummary() {
        var properties = new LinkedHashMap<String, Schema>(job().getProperties());
        properties.remove("payload");
        properties.remove("result");
        return object("A job without its payload and result (GET /v1/jobs with view=summary).", properties)
                .required(List.copyOf(properties.keySet()));
    }

    private static Schema jobError() {
        return object("A failed attempt.", fields(
                "code", string("HANDLER_ERROR, TIMEOUT, NO_HANDLER, WORKER_LOST, CANCELLED, RESULT_TOO_LARGE, "
                        + "RESULT_INVALID, INVALID_REPORT, RECORD_TOO_LARGE, or a handler's own code such as "
                        + "HTTP_STATUS or SQL_ERROR."),
                "message", string("What happened."),
                "retryable", bool("Whether another attempt could succeed.")))
                .required(List.of("code", "message", "retryable"));
    }

    private static Schema progress() {
        return object("Progress reported by a running attempt.", fields(
                "fraction", number("From 0 to 1."),
                "message", nullable(string("The handler's message, or null.")),
                "at", instant("When the worker reported it.")))
                .required(List.of("fraction", "message", "at"));
    }

    private static Schema submitRequest() {
        return object("A job to run. Unknown fields are a 400 naming them.", fields(
                "type", string("The job type.").pattern(anchored(JobLimits.TYPE_PATTERN)),
                "queue", string("The queue; one that the api serves (conveyor.api.queues).")
                        .pattern(anchored(JobLimits.QUEUE_PATTERN))._default("default"),
                "payload", any("A JSON object, at most max-payload-bytes (256 KiB) encoded.").types(types("object"))
                        ._default(Map.of()),
                "maxAttempts", integer("Attempts allowed.").minimum(bound(1)).maximum(bound(JobLimits.MAX_ATTEMPTS))
                        ._default(3),
                "timeoutSeconds", integer("Time allowed per attempt, in seconds.").minimum(bound(1))
                        .maximum(bound(JobLimits.MAX_TIMEOUT_SECONDS))._default(300),
                "runAt", instant("When to run it, no later than 9999-12-31T23:59:59.999Z; in the past means now. "
                        + "Not together with delaySeconds."),
                "delaySeconds", integer("Run this many seconds from now. Not together with runAt.")
                        .minimum(bound(0)).maximum(bound(JobLimits.MAX_DELAY_SECONDS))._default(0),
                "idempotencyKey", string("1 to 255 printable characters; or the Idempotency-Key header (not both). "
                        + "The same key with the same request answers the earlier job.").minLength(1).maxLength(JobLimits.MAX_IDEMPOTENCY_KEY)))
                .addRequiredItem("type").additionalProperties(false);
    }

    private static Schema jobPage() {
        return object("One page of jobs, newest first.", fields(
                "jobs", array(new JsonSchema().oneOf(List.of(ref("Job"), ref("JobSummary"))),
                        "The jobs of this page: Jobs, or JobSummaries with view=summary."),
                "next", nullable(string("The cursor of the next page (pass it as `after`), or null on the last page."))))
                .required(List.of("jobs", "next"));
    }

    private static Schema queueStats() {
        var properties = fields(
                "name", string("The queue."),
                "scheduled", count("Jobs SCHEDULED."),
                "queued", count("Jobs QUEUED."),
                "running", count("Jobs RUNNING."),
                "succeeded", count("Jobs SUCCEEDED."),
                "failed", count("Jobs FAILED."),
                "cancelled", count("Jobs CANCELLED."),
                "oldestQueuedSeconds", number("How long the oldest QUEUED job has been due, in seconds; 0 when none."));
        return object("One queue's jobs by status.", properties).required(List.copyOf(properties.keySet()));
    }

    private static Schema worker() {
        var properties = fields(
                "id", string("The worker's id (conveyor.worker.id)."),
                "queues", array(string("A queue."), "The queues it takes jobs from."),
                "types", array(string("A job type."), "The job types it runs."),
                "inFlight", integer("Jobs running or waiting on it now."),
                "completed", count("Attempts it finished since it started."),
                "startedAt", instant("When it started."),
                "lastSeenAt", instant("When the api last heard from it."));
        return object("A live worker.", properties).required(List.copyOf(properties.keySet()));
    }

    private static Schema keyRequest() {
        return object("An API key to make. Unknown fields are a 400 naming them.", fields(
                "name", string("What the key is for, 1 to 100 printable characters (not secret).").minLength(1)
                        .maxLength(100),
                "tenant", string("The tenant its jobs belong to.").pattern(anchored(JobLimits.QUEUE_PATTERN)),
                "scopes", array(string("A scope.")._enum(SCOPES), "What the key may do; `admin` includes the others, "
                        + "for every tenant.").minItems(1)))
                .required(List.of("name", "tenant", "scopes")).additionalProperties(false);
    }

    private static Schema key() {
        var properties = fields(
                "id", string("The key's id (not secret): in logs, and to revoke it."),
                "name", string("What the key is for; for a key of the configuration, its id."),
                "tenant", string("The tenant its jobs belong to."),
                "scopes", array(string("A scope.")._enum(SCOPES), "What the key may do."),
                "source", string("Where the key comes from.")._enum(List.of("configuration", "api")),
                "createdAt", nullable(instant("When it was made through the api; null for a key of the "
                        + "configuration.")),
                "revokedAt", nullable(instant("When it was revoked, or null while it is active.")),
                "key", nullable(string("The key itself (`cvk_...`): only in the answer that made it, null everywhere "
                        + "else. The api keeps only its SHA-256.")));
        return object("An API key as the api shows it.", properties).required(List.copyOf(properties.keySet()));
    }

    private static Schema problem() {
        return object("An RFC 9457 problem document (application/problem+json).", fields(
                "type", string("A URI naming the kind of problem: https://conveyor.dev/problems/ followed by "
                        + "validation, payload-too-large, idempotency-conflict, not-found, invalid-state, "
                        + "store-unavailable, unsupported-media-type, unauthorized, forbidden or keys-disabled; "
                        + "about:blank for errors of the "
                        + "HTTP layer (405, 406, 415).").format("uri"),
                "title", string("A short summary of the kind of problem."),
                "status", integer("The HTTP status code."),
                "detail", string("What went wrong with this request."),
                "instance", string("The request path.").format("uri-reference"),
                "errors", array(ref("FieldError"), "Validation problems only: every offending field.")))
                .required(List.of("type", "title", "status", "detail"));
    }

    static Schema ref(String name) {
        return new JsonSchema().$ref(REF + name);
    }

    static Schema string(String description) {
        return new JsonSchema().types(types("string")).description(description);
    }

    static Schema integer(String description) {
        return new JsonSchema().types(types("integer")).format("int32").description(description);
    }

    static Schema number(String description) {
        return new JsonSchema().types(types("number")).format("double").description(description);
    }

    private static Schema count(String description) {
        return new JsonSchema().types(types("integer")).format("int64").minimum(bound(0)).description(description);
    }

    private static Schema bool(String description) {
        return new JsonSchema().types(types("boolean")).description(description);
    }

    static Schema instant(String description) {
        return string(description + " An ISO-8601 UTC instant.").format("date-time");
    }

    /** Any JSON value. */
    private static Schema any(String description) {
        return new JsonSchema().description(description);
    }

    static Schema array(Schema items, String description) {
        return new JsonSchema().types(types("array")).items(items).description(description);
    }

    private static Schema object(String description, Map<String, Schema> properties) {
        return new JsonSchema().types(types("object")).description(description).properties(properties);
    }

    /** A value that may be null: its type plus "null". */
    private static Schema nullable(Schema schema) {
        schema.getTypes().add("null");
        return schema;
    }

    /** A reference that may be null ({@code $ref} allows no type beside it, so: one of the two). */
    private static Schema nullable(Schema reference, String description) {
        return new JsonSchema().oneOf(List.of(reference, new JsonSchema().types(types("null"))))
                .description(description);
    }

    private static LinkedHashSet<String> types(String... types) {
        return new LinkedHashSet<>(List.of(types));
    }

    /** A pattern that Java matches against the whole text, for JSON Schema, which finds it anywhere in the text. */
    private static String anchored(String pattern) {
        return "^" + pattern + "$";
    }

    private static BigDecimal bound(long value) {
        return BigDecimal.valueOf(value);
    }

    /** Properties in the order given: name, schema, name, schema, ... */
    private static Map<String, Schema> fields(Object... namesAndSchemas) {
        var properties = new LinkedHashMap<String, Schema>();
        for (var i = 0; i < namesAndSchemas.length; i += 2) {
            properties.put((String) namesAndSchemas[i], (Schema) namesAndSchemas[i + 1]);
        }
        return properties;
    }
}
