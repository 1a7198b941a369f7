package dev.conveyor.api.openapi;

import static dev.conveyor.api.openapi.Schemas.ref;

import dev.conveyor.api.auth.Scope;
import io.swagger.v3.oas.models.headers.Header;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.JsonSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.parameters.RequestBody;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What each operation of {@code /v1} takes and answers, keyed by {@code "METHOD /path"}. The operations themselves
 * (paths, methods, parameters) come from the controllers' mappings; this adds what the mappings cannot say.
 */
final class Operations {

    /**
     * One operation's description.
     *
     * @param scope      what the caller's key needs ({@code @RequiresScope} of its handler); the answers 401 and 403
     *                   are added from it
     * @param parameters schemas of this operation's parameters that differ from {@link #parameters()}
     */
    record Operation(String id, String tag, String summary, String description, Scope scope, RequestBody body,
            ApiResponses responses, Map<String, Schema> parameters) {

        Operation(String id, String tag, String summary, String description, Scope scope, RequestBody body,
                ApiResponses responses) {
            this(id, tag, summary, description, scope, body, responses, Map.of());
        }

        Operation {
            var all = new TreeMap<String, ApiResponse>(responses);
            all.put("401", unauthorized());
            all.put("403", forbidden(scope));
            responses = new ApiResponses();
            all.forEach(responses::addApiResponse);
        }
    }

    private static final String JSON = "application/json";

    private Operations() {
    }

    static Map<String, Operation> all() {
        var operations = new LinkedHashMap<String, Operation>();
        operations.put("POST /v1/jobs", new Operation("submitJob", "jobs", "Submit a job",
                "Stores the job durably, then answers. With an idempotency key (field or header), a repeat of the "
                        + "same request answers the earlier job (200) and a different request with the same key is a "
                        + "409.",
                Scope.JOBS_WRITE, body("SubmitRequest"), responses(
                        "200", json("The same idempotency key was used before with the same request: the earlier "
                                + "job.", "Job").addHeaderObject("Idempotent-Replayed",
                                header("Always `true`.")),
                        "202", json("Accepted: the job is durable.", "Job").addHeaderObject("Location",
                                header("`/v1/jobs/{id}` of the new job.")),
                        "400", problem("Invalid request; `errors` names every bad field. Nothing was stored."),
                        "409", problem("The idempotency key was used before with a different request."),
                        "413", problem("The payload (or the body) is too large."),
                        "415", problem("The body is not `application/json` in UTF-8, or has a content coding."),
                        "429", tooMany("The key's submission rate (`rate-limited`), the tenant's jobs waiting "
                                + "(`tenant-backlog-full`), or the memory its bodies over 64 KiB hold at once "
                                + "(`tenant-bodies-full`), is at its limit. Nothing was stored."),
                        "503", unavailable(), "504", noAnswer())));
        operations.put("POST /v1/jobs/batch", new Operation("submitBatch", "jobs", "Submit many jobs",
                "All or nothing: any invalid item makes a 400 naming it (`jobs[3].type`) and nothing is stored. "
                        + "Give idempotency keys in the items; the Idempotency-Key header is refused here.",
                Scope.JOBS_WRITE, body("BatchRequest"), responses(
                        "202", json("Accepted: every job is durable.", "BatchAnswer"),
                        "400", problem("Invalid request; `errors` names every bad item field. Nothing was stored."),
                        "409", problem("An item's idempotency key was used before with a different request. "
                                + "Nothing was stored."),
                        "413", problem("A payload (or the body) is too large."),
                        "415", problem("The body is not `application/json` in UTF-8, or has a content coding."),
                        "429", tooMany("The key's submission rate (`rate-limited`), the tenant's jobs waiting "
                                + "(`tenant-backlog-full`), or the memory its bodies over 64 KiB hold at once "
                                + "(`tenant-bodies-full`), is at its limit. Nothing was stored."),
                        "503", unavailable(), "504", noAnswer())));
        operations.put("GET /v1/jobs/{id}", new Operation("getJob", "jobs", "Get a job, optionally waiting for its end",
                "With `wait`, a job that is not terminal is held until it ends or `wait` seconds pass; then the job "
                        + "as it stands. Waiting costs no polling and no platform thread. With `view=summary` the job "
                        + "comes without its payload and result.",
                Scope.JOBS_READ, null, responses(
                        "200", new ApiResponse().description("The job (a JobSummary with `view=summary`).").content(
                                content(JSON, new JsonSchema().oneOf(List.of(ref("Job"), ref("JobSummary"))))),
                        "400", problem("`id` is not a UUID, `wait` is out of range, or `view` is unknown."),
                        "404", problem("No such job, or one of another tenant (the same answer)."),
                        "429", tooMany("With `wait`: the key has `long-polls-per-key` long-polls open, or the "
                                + "instance `long-polls` (`too-many-long-polls`)."),
                        "503", unavailable(), "504", noAnswer())));
        operations.put("GET /v1/jobs", new Operation("listJobs", "jobs", "List jobs, newest first",
                "Filters match exactly. Page with the `next` cursor of the previous answer. With `view=summary` the "
                        + "jobs come without payloads and results.",
                Scope.JOBS_READ, null, responses(
                        "200", json("A page of jobs.", "JobPage"),
                        "400", problem("A filter, `limit`, `after` or `view` is invalid; `errors` names each."),
                        "429", tooMany("The key has `lists-per-key` listings under way (`too-many-listings`)."),
                        "503", unavailable(), "504", noAnswer())));
        operations.put("POST /v1/jobs/{id}/cancel", new Operation("cancelJob", "jobs", "Cancel a job",
                "No new attempt starts after this. A job that is not running is CANCELLED at once (already in the "
                        + "answer); a running attempt is interrupted, and the job ends CANCELLED unless that attempt "
                        + "had already finished.",
                Scope.JOBS_WRITE, null, responses(
                        "202", json("The job as it stands.", "Job"),
                        "400", problem("`id` is not a UUID."),
                        "404", problem("No such job, or one of another tenant (the same answer)."),
                        "409", problem("The job is already terminal."),
                        "503", unavailable(), "504", noAnswer())));
        operations.put("POST /v1/jobs/{id}/retry", new Operation("retryJob", "jobs", "Retry a failed or cancelled job",
                "Back to QUEUED with a fresh budget: `attempts` keeps counting and `maxAttempts` becomes `attempts` "
                        + "plus the `maxAttempts` it was submitted with. `error` keeps the last failure until a new "
                        + "attempt finishes.",
                Scope.JOBS_WRITE, null, responses(
                        "202", json("The job, QUEUED.", "Job"),
                        "400", problem("`id` is not a UUID."),
                        "404", problem("No such job, or one of another tenant (the same answer)."),
                        "409", problem("The job is not FAILED or CANCELLED."),
                        "429", tooMany("The tenant's jobs waiting are at `queued-per-tenant` "
                                + "(`tenant-backlog-full`): the job stays as it was."),
                        "503", unavailable(), "504", noAnswer())));
        operations.put("GET /v1/queues", new Operation("listQueues", "queues", "Jobs by status, per queue",
                "Every queue that has jobs, from counters (cheap to poll every second).",
                Scope.ADMIN, null, responses(
                        "200", json("The queues.", "Queues"),
                        "503", unavailable(), "504", noAnswer())));
        operations.put("GET /v1/stats", new Operation("getStats", "queues", "What the dashboard's overview shows",
                "The queue counters (read at most once a second for every caller) and, per 5-s bucket over the last "
                        + "10 minutes, the jobs whose end was recorded in it and their latency from due to recorded end.",
                Scope.ADMIN, null, responses("200", json("The counters and series.", "Stats"), "503", unavailable(), "504", noAnswer())));
        operations.put("GET /v1/workers", new Operation("listWorkers", "workers", "The live workers",
                "The workers heard from within worker-ttl, from their heartbeats (answered from memory).",
                Scope.ADMIN, null, responses("200", json("The workers.", "Workers"))));
        keys(operations);
        return operations;
    }

    private static void keys(Map<String, Operation> operations) {
        operations.put("POST /v1/keys", new Operation("createKey", "keys", "Make an API key",
                "The answer holds the key itself (`key`), this once: the api keeps only its SHA-256. The key works "
                        + "at once on this api instance and within `conveyor.api.auth.refresh-interval` (1 s) on the "
                        + "others.",
                Scope.ADMIN, body("KeyRequest"), responses(
                        "201", json("The key made, with `key`.", "Key").addHeaderObject("Location",
                                header("`/v1/keys/{id}` of the new key.")),
                        "400", problem("Invalid request; `errors` names every bad field. Nothing was stored."),
                        "409", problem("The api runs without keys (open mode): `keys-disabled`. Configure an admin "
                                + "key first."),
                        "413", problem("The body is larger than 64 KiB."),
                        "415", problem("The body is not `application/json` in UTF-8, or has a content coding."),
                        "503", unavailable(), "504", noAnswer())));
        operations.put("GET /v1/keys", new Operation("listKeys", "keys", "List the API keys",
                "Every key, active or revoked, from the configuration and made through the api, newest first; never "
                        + "a key itself nor its hash.",
                Scope.ADMIN, null, responses("200", json("The keys.", "Keys"))));
        operations.put("GET /v1/keys/{id}", new Operation("getKey", "keys", "Show an API key",
                "The key that `POST /v1/keys`'s `Location` names, active or revoked, as `GET /v1/keys` lists it: "
                        + "never the key itself nor its hash.",
                Scope.ADMIN, null, responses(
                        "200", json("The key.", "Key"),
                        "404", problem("No such key.")),
                Map.of("id", Schemas.string("The key's id (not the key)."))));
        operations.put("DELETE /v1/keys/{id}", new Operation("revokeKey", "keys", "Revoke an API key",
                "The key is refused at once on this api instance and within `conveyor.api.auth.refresh-interval` "
                        + "(1 s) on the others. A key of the configuration can be revoked too, and stays revoked across "
                        + "restarts by its id (give a replacement a new id). Revoking a revoked key answers it as it "
                        + "is.",
                Scope.ADMIN, null, responses(
                        "200", json("The key, revoked.", "Key"),
                        "404", problem("No such key."),
                        "409", problem("The api runs without keys (open mode): `keys-disabled`."),
                        "503", unavailable(), "504", noAnswer()),
                Map.of("id", Schemas.string("The key's id (not the key)."))));
    }

    /** Query and path parameters by name: their schema and meaning. */
    static Map<String, Schema> parameters() {
        return Map.of(
                "id", Schemas.string("The job's id.").format("uuid"),
                "wait", Schemas.number("Seconds to wait for the job to end, 0 to 60.").minimum(
                        BigDecimal.ZERO).maximum(BigDecimal.valueOf(60)),
                "status", Schemas.string("Only jobs in this status.")._enum(List.of("SCHEDULED", "QUEUED", "RUNNING",
                        "SUCCEEDED", "FAILED", "CANCELLED")),
                "queue", Schemas.string("Only jobs of this queue."),
                "type", Schemas.string("Only jobs of this type."),
                "limit", Schemas.integer("Jobs per page, 1 to 500.").minimum(BigDecimal.ONE)
                        .maximum(BigDecimal.valueOf(500))._default(50),
                "after", Schemas.string("The `next` cursor of the previous page."),
                "view", Schemas.string("`full` (the default): whole jobs; `summary`: jobs without `payload` and "
                        + "`result` (JobSummary), for views that show neither or look for a change.")
                        ._enum(List.of("full", "summary"))._default("full"),
                "Idempotency-Key", Schemas.string("1 to 255 printable characters; instead of the `idempotencyKey` "
                        + "field. Refused on `/v1/jobs/batch`.").minLength(1).maxLength(255));
    }

    private static RequestBody body(String schema) {
        return new RequestBody().required(true).content(content(JSON, ref(schema)));
    }

    private static ApiResponses responses(Object... statusesAndResponses) {
        var responses = new ApiResponses();
        for (var i = 0; i < statusesAndResponses.length; i += 2) {
            responses.addApiResponse((String) statusesAndResponses[i], (ApiResponse) statusesAndResponses[i + 1]);
        }
        return responses;
    }

    private static ApiResponse json(String description, String schema) {
        return new ApiResponse().description(description).content(content(JSON, ref(schema)));
    }

    private static ApiResponse problem(String description) {
        return new ApiResponse().description(description).content(content("application/problem+json",
                ref("Problem")));
    }

    private static ApiResponse unauthorized() {
        return problem("No API key, or one that is unknown or revoked (only when the api has keys configured).")
                .addHeaderObject("WWW-Authenticate", header("`Bearer realm=\"conveyor\"`, with "
                        + "`error=\"invalid_token\"` when a key was sent."));
    }

    private static ApiResponse forbidden(Scope scope) {
        return problem(scope == Scope.ADMIN ? "The key lacks the scope `admin`."
                : "The key lacks the scope `" + scope.value() + "` (or `admin`).");
    }

    private static ApiResponse tooMany(String description) {
        return problem(description).addHeaderObject("Retry-After", header("Seconds to wait before trying again."));
    }

    private static ApiResponse unavailable() {
        return problem("The job store (PostgreSQL) is unavailable; nothing was stored. Try again.")
                .addHeaderObject("Retry-After", header("Seconds to wait before trying again."));
    }

    private static ApiResponse noAnswer() {
        return problem("The job store stopped answering while it held the request (`store-no-answer`): it may have "
                + "been carried out. Send it again with the same idempotency key to learn which.")
                .addHeaderObject("Retry-After", header("Seconds to wait before trying again."));
    }

    private static Header header(String description) {
        return new Header().description(description).schema(new JsonSchema().types(new LinkedHashSet<>(
                List.of("string"))));
    }

    private static Content content(String mediaType, Schema schema) {
        return new Content().addMediaType(mediaType, new MediaType().schema(schema));
    }
}
