package dev.conveyor.common.handler;

import dev.conveyor.common.Json;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.cfg.CoercionAction;
import tools.jackson.databind.cfg.CoercionInputShape;
import tools.jackson.databind.cfg.EnumFeature;
import tools.jackson.databind.exc.UnrecognizedPropertyException;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.type.LogicalType;

/**
 * A handler whose payload is a record {@code P} and whose result is a record {@code R}. A payload that does not fit
 * {@code P} (a missing or mistyped field, an unknown field, a check in P's constructor that throws) fails the job
 * at once with a not-retryable {@code HANDLER_ERROR} naming the field, such as {@code payload.items[2].sku}.
 */
public abstract class TypedJobHandler<P, R> implements JobHandler {

    /**
     * The wire codec, reading no value as something else: integer fields refuse a fraction rather than cut it
     * ({@link WholeNumbers}), enum fields a number rather than take the constant at that position (a client's
     * {@code "priority": 1}, an IntEnum counted from 1, ran as the second constant), boolean fields a number (5 was
     * true), floating-point fields "NaN" and what they cannot hold, time fields a number ({@link MeaningfulValues}),
     * and any field but text empty text.
     */
    private static final JsonMapper PAYLOADS = Json.MAPPER.rebuild()
            .addModule(WholeNumbers.module())
            .addModule(MeaningfulValues.module())
            .enable(EnumFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
            // empty text is no number, boolean, instant or id: Jackson alone read it as null, as if not sent
            .withCoercionConfigDefaults(all -> all.setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail))
            .withCoercionConfig(LogicalType.Boolean, booleans -> booleans
                    .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail))
            .build();

    /**
     * Jackson's advice on its own configuration, in its messages: "(but could if coercion was enabled using
     * `CoercionConfig`)", "(set `DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES` to 'false' to allow)". A job's
     * submitter reads these messages in the job's error, and can do nothing with that advice: it is left out, and what
     * was wrong with the field stays.
     */
    private static final Pattern ADVICE = Pattern.compile("\\s*\\([^()]*(?:CoercionConfig|Feature\\.)[^()]*\\)"
            + "|:\\s*(?:disable|enable)\\s+\\S*Feature\\.\\S+\\s+to allow");
    /** Jackson's words for a field of the record that the payload does not have. */
    private static final Pattern MISSING = Pattern.compile("Missing (required )?creator property");
    /** Most of a record's fields named in the message that refuses a field it does not have. */
    private static final int MAX_FIELDS_NAMED = 30;
    /** Jackson's refusal of a number for an enum, which ends in advice too. */
    private static final Pattern ENUM_NUMBER = Pattern.compile(
            ":\\s*not allowed to deserialize Enum value out of number:\\s*(?:disable|enable)\\s+\\S+\\s+to allow");

    /** Most causes followed from an exception: the handler's own may lead back to each other. */
    private static final int MAX_CAUSES = 100;

    private final String type;
    private final Class<P> payloadType;
    // Stricter than the wire codec: a misspelt field in a payload is a mistake worth reporting, not ignoring.
    private final ObjectReader reader;

    protected TypedJobHandler(String type, Class<P> payloadType) {
        this.type = type;
        this.payloadType = payloadType;
        this.reader = PAYLOADS.readerFor(payloadType)
                .with(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .with(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .with(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES);
    }

    /** Runs one attempt with the payload read as {@code P}; the same rules as {@link JobHandler#handle}. */
    protected abstract R run(P payload, JobContext context) throws Exception;

    @Override
    public final String type() {
        return type;
    }

    /**
     * Runs the attempt and writes its result as JSON. A result that cannot be written (a map with a null key, objects
     * that refer to each other, an accessor that throws) fails the attempt for good with {@code RESULT_INVALID}
     * naming the place, such as {@code result.lines[0].total}: each attempt would return the same.
     */
    @Override
    public final JsonNode handle(JobContext context) throws Exception {
        var result = run(payload(context.payload()), context);
        try {
            return Json.MAPPER.valueToTree(result);
        } catch (JacksonException e) {
            if (rootCause(e) instanceof JobFailure failure) {
                throw failure; // an accessor's own failure, with its code and retryability
            }
            var why = e.getOriginalMessage() == null ? rootCause(e).getClass().getName() : e.getOriginalMessage();
            throw new JobFailure("RESULT_INVALID", "result" + path(e) + ": " + why + " (the result must be "
                    + "writable as JSON)", false, null, e);
        }
    }

    /**
     * Reads {@code payload} as {@code P}, or throws the not-retryable failure that says which field is wrong (or the
     * {@link JobFailure} that P's constructor threw, as it stands).
     */
    public final P payload(JsonNode payload) {
        try {
            return reader.readValue(payload);
        } catch (JacksonException e) {
            var cause = rootCause(e);
            if (cause instanceof JobFailure failure) {
                throw failure; // P's constructor's own failure, with its code and retryability
            }
            var field = "payload" + path(e);
            var why = cause == e ? why(e) : cause.getMessage();
            throw new JobFailure("HANDLER_ERROR", field + ": " + why + " (the payload must fit "
                    + payloadType.getSimpleName() + ")", false, null, e);
        }
    }

    /**
     * What is wrong with a field, in the submitter's words: a field the record does not have, as the built-in handlers
     * say it (Jackson named the record's Java class, "not marked as ignorable"), a field it has that the payload does
     * not ("missing"), or else Jackson's words without its advice on how to configure it.
     */
    private static String why(JacksonException e) {
        if (e instanceof UnrecognizedPropertyException unknown) {
            var known = unknown.getKnownPropertyIds() == null ? List.<Object>of() : unknown.getKnownPropertyIds();
            var fields = known.stream().map(Objects::toString).sorted().limit(MAX_FIELDS_NAMED)
                    .collect(Collectors.joining(", ")) + (known.size() > MAX_FIELDS_NAMED ? ", …" : "");
            var record = unknown.getReferringClass() == null ? "it" : unknown.getReferringClass().getSimpleName();
            return "not a field of " + record + " (it has " + (fields.isEmpty() ? "none" : fields) + ")";
        }
        var jackson = e.getOriginalMessage();
        if (jackson == null) {
            return null;
        }
        if (MISSING.matcher(jackson).lookingAt()) {
            return "missing";
        }
        var enumNumber = ENUM_NUMBER.matcher(jackson).replaceAll(": give one of its names, not a number");
        return ADVICE.matcher(enumNumber).replaceAll("");
    }

    private static String path(JacksonException e) {
        var path = new StringBuilder();
        for (var reference : e.getPath()) {
            if (reference.getPropertyName() != null) {
                path.append('.').append(reference.getPropertyName());
            } else if (reference.getIndex() >= 0) {
                path.append('[').append(reference.getIndex()).append(']');
            }
        }
        return path.toString();
    }

    /** The last of {@code e}'s causes; causes that lead back to each other have none, and stop the walk. */
    private static Throwable rootCause(Throwable e) {
        var cause = e;
        for (var steps = 0; steps < MAX_CAUSES && cause.getCause() != null && cause.getCause() != cause; steps++) {
            cause = cause.getCause();
        }
        return cause;
    }
}
