package dev.conveyor.api.submit;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.auth.ApiKeys;
import dev.conveyor.api.auth.Caller;
import dev.conveyor.api.auth.RequiresScope;
import dev.conveyor.api.auth.Scope;
import dev.conveyor.api.job.Job;
import dev.conveyor.api.limits.Limits;
import dev.conveyor.api.web.ApiException;
import dev.conveyor.api.web.FieldError;
import dev.conveyor.api.web.Headers;
import dev.conveyor.api.web.JsonAnswers;
import dev.conveyor.api.web.JsonBodies;
import dev.conveyor.common.JobLimits;
import dev.conveyor.common.Json;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.enums.ParameterIn;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.databind.ObjectReader;

/** {@code POST /v1/jobs} and {@code POST /v1/jobs/batch}. */
@RestController
class SubmitController {

    static final String IDEMPOTENCY_KEY = "Idempotency-Key";
    static final String REPLAYED = "Idempotent-Replayed";
    private static final int MAX_BATCH = JobLimits.MAX_BATCH;
    /** A field given twice is refused, not settled by whichever comes last. */
    private static final ObjectReader STRICT = Json.MAPPER.reader()
            .with(StreamReadFeature.STRICT_DUPLICATE_DETECTION);

    private final SubmitRequests requests;
    private final JobSubmitter submitter;
    private final ApiProperties properties;
    private final Limits limits;
    private final JsonAnswers answers;
    private final BodyMemory memory;
    private final ApiKeys keys;

    SubmitController(SubmitRequests requests, JobSubmitter submitter, ApiProperties properties, Limits limits,
            JsonAnswers answers, BodyMemory memory, ApiKeys keys) {
        this.memory = memory;
        this.keys = keys;
        this.limits = limits;
        this.answers = answers;
        this.requests = requests;
        this.submitter = submitter;
        this.properties = properties;
    }

    @PostMapping(path = "/v1/jobs", consumes = MediaType.APPLICATION_JSON_VALUE)
    @RequiresScope(Scope.JOBS_WRITE)
    @Parameter(in = ParameterIn.HEADER, name = IDEMPOTENCY_KEY) // read below: Spring would join two into one
    void submit(HttpServletRequest http, HttpServletResponse response, Caller caller) throws IOException {
        var idempotencyKey = Headers.single(http, IDEMPOTENCY_KEY);
        JsonBodies.requireReadable(http, response);
        try (var body = memory.read(http, singleBodyLimit(properties), caller)) {
            // a body may take minutes to arrive: a key revoked meanwhile submits nothing
            keys.requireStillActive(caller, response);
            submit(response, caller, requests.check(single(body.bytes()), "", idempotencyKey, caller.tenant()));
        }
    }

    private void submit(HttpServletResponse response, Caller caller, SubmitRequests.Checked checked)
            throws IOException {
        refuseIfInvalid(checked.errors(), checked.unlisted(), checked.tooLarge());
        limits.submitting(caller, 1, () -> submitter.unstored(List.of(checked.job())));
        switch (submitter.submit(checked.job())) {
            case InsertOutcome.Inserted(var job) -> {
                response.setHeader(HttpHeaders.LOCATION, "/v1/jobs/" + job.id());
                answers.write(response, HttpStatus.ACCEPTED, job);
            }
            case InsertOutcome.Replayed(var job) -> {
                response.setHeader(REPLAYED, "true");
                answers.write(response, HttpStatus.OK, job);
            }
            case InsertOutcome.KeyConflict(var key, var existing) -> throw ApiException.conflict(
                    "idempotency-conflict", "Idempotency key reused", "idempotency key '" + key
                            + "' was used before for a different request (job " + existing + ")");
        }
    }

    @PostMapping(path = "/v1/jobs/batch", consumes = MediaType.APPLICATION_JSON_VALUE)
    @RequiresScope(Scope.JOBS_WRITE)
    @Parameter(in = ParameterIn.HEADER, name = IDEMPOTENCY_KEY)
    void submitBatch(HttpServletRequest http, HttpServletResponse response, Caller caller) throws IOException {
        if (http.getHeader(IDEMPOTENCY_KEY) != null) {
            throw ApiException.invalid(IDEMPOTENCY_KEY, "is not used by batches; give each item an idempotencyKey");
        }
        JsonBodies.requireReadable(http, response);
        try (var body = memory.read(http, properties.maxBatchBodyBytes(), caller)) {
            keys.requireStillActive(caller, response);
            submitBatch(response, caller, batch(body.bytes(), caller.tenant()));
        }
    }

    private void submitBatch(HttpServletResponse response, Caller caller, ReadBatch read) throws IOException {
        var jobs = read.jobs();
        refuseIfInvalid(read.errors(), read.unlisted(), read.tooLarge());
        limits.submitting(caller, jobs.size(), () -> submitter.unstored(jobs));
        var outcomes = submitter.submitAll(jobs);
        var answer = outcomes.stream().map(o -> switch (o) {
            case InsertOutcome.Inserted(var job) -> job;
            case InsertOutcome.Replayed(var job) -> job;
            case InsertOutcome.KeyConflict c -> throw new IllegalStateException("conflicts roll the batch back");
        }).toList();
        answers.write(response, HttpStatus.ACCEPTED, new Batch(answer));
    }

    /** The answer to a batch: its jobs, in the order of the request. */
    record Batch(List<Job> jobs) {
    }

    private static void refuseIfInvalid(List<FieldError> errors, int unlisted, boolean tooLarge) {
        if (errors.isEmpty()) {
            return;
        }
        if (tooLarge) {
            throw new ApiException(HttpStatus.CONTENT_TOO_LARGE, "payload-too-large", "Payload too large",
                    errors.getFirst().field() + ": " + errors.getFirst().message(), ApiException.listed(errors));
        }
        throw ApiException.invalid(errors, unlisted);
    }

    /** What is wrong with the JSON, in the reader's words but without its class and method names. */
    static String invalidJson(JacksonException e) {
        if (e instanceof StreamConstraintsException) {
            return "is past the JSON reader's limits: nested too deep, or a number or a text too long";
        }
        var where = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                + e.getLocation().getColumnNr() + ")";
        return "is not valid JSON" + where + ": " + e.getOriginalMessage();
    }

    /**
     * The largest body of one submission: room for a payload of {@code max-payload-bytes} written with every
     * character escaped ({@code \u0041} is six bytes for one) and for the other fields. Parsed, a JSON body takes up to
     * some 25 times its size in memory (a body of empty objects), so one submission may not send what a batch may.
     */
    static int singleBodyLimit(ApiProperties properties) {
        return (int) Math.min(properties.maxBatchBodyBytes(), 8L * properties.maxPayloadBytes() + 65_536);
    }

    /** The request of {@code POST /v1/jobs}, or null when the body is JSON but not an object. */
    private SubmitRequests.Request single(byte[] body) {
        JsonBodies.requireUtf8(body);
        try (var parser = STRICT.createParser(body)) {
            var request = parser.nextToken() == JsonToken.START_OBJECT ? requests.read(parser, "") : skip(parser);
            end(parser);
            return request;
        } catch (JacksonException e) {
            throw ApiException.invalid("body", invalidJson(e));
        }
    }

    /** A batch's jobs, checked, or what is wrong with them: the first errors, and how many more there are. */
    private record ReadBatch(List<NewJob> jobs, List<FieldError> errors, int unlisted, boolean tooLarge) {
    }

    /**
     * Reads {@code {"jobs": [...]}} item by item: each job is checked as it is read and kept with its payload as
     * text, so the api holds the body and about its size again, never a tree of it.
     */
    private ReadBatch batch(byte[] body, String tenant) {
        var errors = new ArrayList<FieldError>(); // the body's own, named first
        var itemErrors = new ArrayList<FieldError>();
        // errors past ApiException.MAX_ERRORS, only counted: the body's own, and its items'
        var unlistedFields = 0;
        var unlistedItems = 0;
        var jobs = new ArrayList<NewJob>();
        var items = -1; // no jobs array
        // 413 only when the one thing wrong is payloads that are too large
        var tooLarge = true;
        JsonBodies.requireUtf8(body);
        try (var parser = STRICT.createParser(body)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw ApiException.invalid("body", "must be a JSON object with a jobs array");
            }
            while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
                var name = parser.currentName();
                if (!name.equals("jobs") || parser.nextToken() != JsonToken.START_ARRAY) {
                    if (!name.equals("jobs")) {
                        if (errors.size() < ApiException.MAX_ERRORS) {
                            errors.add(FieldError.unknown("", name));
                        } else {
                            unlistedFields++;
                        }
                        parser.nextToken();
                    }
                    parser.skipChildren();
                    continue;
                }
                items = 0;
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    if (items++ == MAX_BATCH) {
                        break;
                    }
                    var prefix = "jobs[" + (items - 1) + "].";
                    var request = parser.currentToken() == JsonToken.START_OBJECT ? requests.read(parser, prefix)
                            : skip(parser);
                    var checked = requests.check(request, prefix, null, tenant);
                    if (checked.job() != null) {
                        jobs.add(checked.job());
                    } else {
                        var room = Math.max(0, ApiException.MAX_ERRORS - itemErrors.size());
                        var listed = Math.min(room, checked.errors().size());
                        itemErrors.addAll(checked.errors().subList(0, listed));
                        unlistedItems += checked.errors().size() - listed + checked.unlisted();
                        tooLarge &= checked.tooLarge();
                    }
                }
                if (items > MAX_BATCH) {
                    break; // what follows is not read: the batch is refused for its size
                }
            }
            if (items <= MAX_BATCH) {
                end(parser);
            }
        } catch (JacksonException e) {
            throw ApiException.invalid("body", invalidJson(e));
        }
        if (items < 1 || items > MAX_BATCH) {
            errors.add(new FieldError("jobs", "must be an array of 1 to " + MAX_BATCH + " submit requests"));
            throw ApiException.invalid(errors, unlistedFields);
        }
        tooLarge &= errors.isEmpty();
        errors.addAll(itemErrors);
        return new ReadBatch(jobs, errors, unlistedFields + unlistedItems, tooLarge);
    }

    /** Skips the value under the parser: a request that is not a JSON object. */
    private static SubmitRequests.Request skip(JsonParser parser) {
        parser.skipChildren();
        return null;
    }

    /** Refuses anything after the body's one value, as reading it whole did. */
    private static void end(JsonParser parser) {
        if (parser.nextToken() != null) {
            throw ApiException.invalid("body", "is not valid JSON: more follows the request's one JSON value");
        }
    }
}
