package dev.conveyor.api.submit;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.web.FieldError;
import dev.conveyor.common.JobLimits;
import dev.conveyor.common.Json;
import dev.conveyor.common.JsonNumbers;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.springframework.stereotype.Component;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.cfg.JsonNodeFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** Checks a submit request against every rule of the contract and turns it into a {@link NewJob}. */
@Component
class SubmitRequests {

    static final Pattern TYPE = JobLimits.TYPE;
    static final Pattern QUEUE = JobLimits.QUEUE;
    static final String DEFAULT_QUEUE = "default";
    // no control characters (NUL among them, and C1's U+0080-U+009F: \p{Cntrl} is ASCII's alone), line or paragraph
    // separators, or unpaired surrogates
    private static final Pattern PRINTABLE = Pattern.compile("[^\\p{Cc}\\p{Zl}\\p{Zp}\\p{Cs}]{1,"
            + JobLimits.MAX_IDEMPOTENCY_KEY + "}");
    /** A header's bytes reach the api as ISO-8859-1 characters: UTF-8 there would be stored as other characters. */
    private static final Pattern PRINTABLE_ASCII = Pattern.compile("[\\x20-\\x7e]{1," + JobLimits.MAX_IDEMPOTENCY_KEY
            + "}");
    private static final Set<String> FIELDS = Set.of("type", "queue", "payload", "maxAttempts", "timeoutSeconds",
            "runAt", "delaySeconds", "idempotencyKey");
    private static final String EMPTY_PAYLOAD = "{}";
    private static final JsonMapper CANONICAL = JsonMapper.builder()
            .enable(JsonNodeFeature.WRITE_PROPERTIES_SORTED)
            .build();

    private final ApiProperties properties;
    private final Set<String> queues;
    private final Clock clock;
    private final Supplier<UUID> ids;

    SubmitRequests(ApiProperties properties, Clock clock, Supplier<UUID> jobIds) {
        this.properties = properties;
        this.queues = Set.copyOf(properties.queues());
        this.clock = clock;
        this.ids = jobIds;
    }

    /** Errors listed per request (per item of a batch) at most: a body of unknown fields made a 10 MB answer. */
    static final int MAX_ERRORS = 10;

    /**
     * The outcome of checking one request: a job, or what is wrong with it: at most {@link #MAX_ERRORS} errors, and
     * how many more there are.
     */
    record Checked(NewJob job, List<FieldError> errors, int unlisted, boolean tooLarge) {
    }

    /**
     * A submit request as read from its body: its fields but {@code payload} (objects and arrays among them read as
     * empty ones: no field but the payload may be one), and its payload, read by {@link Storable#copy} (null when
     * absent or null). Of the unknown fields, only the first {@link #MAX_ERRORS} are kept; {@code unknown} counts
     * them all.
     */
    record Request(ObjectNode fields, Storable.Payload payload, int unknown) {
    }

    /**
     * Reads the request object under {@code parser} (its {@code START_OBJECT} current) to its end, checking and
     * copying its payload as it goes.
     *
     * @param prefix put before field names, e.g. {@code jobs[3].}
     */
    Request read(JsonParser parser, String prefix) {
        var fields = Json.object();
        Storable.Payload payload = null;
        var unknown = 0;
        while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
            var name = parser.currentName();
            var token = parser.nextToken();
            if (name.equals("payload")) {
                payload = switch (token) {
                    case VALUE_NULL -> null;
                    case START_OBJECT -> Storable.copy(parser, prefix + "payload", properties.maxPayloadBytes());
                    default -> {
                        parser.skipChildren();
                        yield new Storable.Payload(null, 0,
                                List.of(new FieldError(prefix + "payload", "must be a JSON object")));
                    }
                };
            } else if (FIELDS.contains(name) || ++unknown <= MAX_ERRORS) {
                fields.set(name, scalar(parser));
            } else {
                parser.skipChildren(); // counted, not kept
            }
        }
        return new Request(fields, payload, unknown);
    }

    /** The value under the parser as a node; an object or an array is skipped and read as an empty one. */
    private static JsonNode scalar(JsonParser parser) {
        var nodes = JsonNodeFactory.instance;
        return switch (parser.currentToken()) {
            case START_OBJECT -> {
                parser.skipChildren();
                yield nodes.objectNode();
            }
            case START_ARRAY -> {
                parser.skipChildren();
                yield nodes.arrayNode();
            }
            case VALUE_STRING -> nodes.stringNode(parser.getString());
            case VALUE_NUMBER_INT -> switch (parser.getNumberType()) {
                case INT -> nodes.numberNode(parser.getIntValue());
                case LONG -> nodes.numberNode(parser.getLongValue());
                default -> nodes.numberNode(parser.getBigIntegerValue());
            };
            case VALUE_NUMBER_FLOAT -> exact(parser);
            case VALUE_TRUE -> nodes.booleanNode(true);
            case VALUE_FALSE -> nodes.booleanNode(false);
            default -> nodes.nullNode();
        };
    }

    /**
     * A number with a fraction or an exponent, exactly as written: read as a double, 2.9999999999999999 was the whole
     * number 3. One whose exponent is past an int's range ({@code 1e-2147483649}) has no exact value here, and reads
     * as NaN, which no rule takes.
     */
    private static JsonNode exact(JsonParser parser) {
        try {
            return JsonNodeFactory.instance.numberNode(parser.getDecimalValue());
        } catch (JacksonException | ArithmeticException | NumberFormatException e) {
            return JsonNodeFactory.instance.numberNode(Double.NaN);
        }
    }

    /**
     * @param request   null when the body (or the batch's item) is not a JSON object
     * @param prefix    put before field names, e.g. {@code jobs[3].}
     * @param headerKey the {@code Idempotency-Key} header, or null
     */
    Checked check(Request request, String prefix, String headerKey, String tenant) {
        var errors = new ArrayList<FieldError>();
        if (request == null) {
            errors.add(new FieldError(prefix.isEmpty() ? "body" : prefix.substring(0, prefix.length() - 1),
                    "must be a JSON object"));
            return new Checked(null, errors, 0, false);
        }
        var fields = request.fields();
        var type = text(fields, "type", prefix, TYPE, "must match " + JobLimits.TYPE_PATTERN, errors);
        if (type == null && isAbsent(fields.get("type"))) {
            errors.add(new FieldError(prefix + "type", "is required"));
        }
        var queue = text(fields, "queue", prefix, QUEUE, "must match " + JobLimits.QUEUE_PATTERN, errors);
        checkQueueServed(fields, queue, prefix, errors);
        var payload = request.payload();
        var tooLarge = false;
        long size = 2; // {}
        if (payload != null) {
            errors.addAll(payload.errors());
            size = payload.size();
            if (size > properties.maxPayloadBytes()) {
                errors.add(new FieldError(prefix + "payload", "is " + size + " bytes encoded (numbers written out "
                        + "in full, as stored); at most " + properties.maxPayloadBytes() + " are allowed"));
                tooLarge = true;
            }
        }
        var maxAttempts = integer(fields, "maxAttempts", prefix, 1, JobLimits.MAX_ATTEMPTS, errors);
        var timeoutSeconds = integer(fields, "timeoutSeconds", prefix, 1, JobLimits.MAX_TIMEOUT_SECONDS,
                errors);
        var delaySeconds = integer(fields, "delaySeconds", prefix, 0, JobLimits.MAX_DELAY_SECONDS, errors);
        var runAt = instant(fields, "runAt", prefix, errors);
        if (!isAbsent(fields.get("runAt")) && !isAbsent(fields.get("delaySeconds"))) {
            errors.add(new FieldError(prefix + "delaySeconds", "must not be given together with runAt"));
        }
        var key = text(fields, "idempotencyKey", prefix, PRINTABLE, "must be 1 to " + JobLimits.MAX_IDEMPOTENCY_KEY + " printable characters",
                errors);
        if (headerKey != null) {
            if (!isAbsent(fields.get("idempotencyKey"))) {
                errors.add(new FieldError(prefix + "idempotencyKey",
                        "must not be given both in the body and in the Idempotency-Key header"));
            } else if (!PRINTABLE_ASCII.matcher(headerKey).matches()) {
                errors.add(new FieldError("Idempotency-Key", "must be 1 to " + JobLimits.MAX_IDEMPOTENCY_KEY + " printable ASCII characters (other "
                        + "characters do not survive an HTTP header: give such a key as the body's idempotencyKey)"));
            } else {
                key = headerKey;
            }
        }
        // named after the known fields' errors, which say more, and never more than MAX_ERRORS
        for (var name : fields.propertyNames()) {
            if (!FIELDS.contains(name)) {
                errors.add(FieldError.unknown(prefix, name));
            }
        }
        if (!errors.isEmpty()) {
            var unlisted = Math.max(0, request.unknown() - MAX_ERRORS);
            tooLarge &= unlisted == 0 && errors.stream().allMatch(e -> e.field().equals(prefix + "payload"));
            if (errors.size() > MAX_ERRORS) {
                unlisted += errors.size() - MAX_ERRORS;
                return new Checked(null, List.copyOf(errors.subList(0, MAX_ERRORS)), unlisted, tooLarge);
            }
            return new Checked(null, errors, unlisted, tooLarge);
        }
        var now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        var given = runAt != null && runAt.isAfter(now);
        var due = given ? runAt : delaySeconds != null ? now.plusSeconds(delaySeconds) : now;
        var job = new NewJob(ids.get(), tenant, type, queue == null ? DEFAULT_QUEUE : queue,
                payload == null ? EMPTY_PAYLOAD : payload.json(),
                maxAttempts == null ? 3 : maxAttempts, timeoutSeconds == null ? 300 : timeoutSeconds,
                due, given, key, key == null ? null : hash(fields, payload), now,
                (int) Math.min(size, Integer.MAX_VALUE));
        return new Checked(job, List.of(), 0, false);
    }

    /** Only the queues of {@code conveyor.api.queues}: others would get topics and share groups no worker reads. */
    private void checkQueueServed(JsonNode request, String queue, String prefix, List<FieldError> errors) {
        var absent = isAbsent(request.get("queue"));
        if (absent ? queues.contains(DEFAULT_QUEUE) : queue == null || queues.contains(queue)) {
            return;
        }
        var served = String.join(", ", properties.queues());
        errors.add(new FieldError(prefix + "queue", absent
                ? "is required here: this api does not serve the queue '" + DEFAULT_QUEUE + "'; it serves " + served
                : "is not a queue this api serves; it serves " + served));
    }

    private static boolean isAbsent(JsonNode node) {
        return node == null || node.isNull();
    }

    private static String text(JsonNode request, String field, String prefix, Pattern pattern, String rule,
            List<FieldError> errors) {
        var node = request.get(field);
        if (isAbsent(node)) {
            return null;
        }
        if (!node.isString() || !pattern.matcher(node.asString()).matches()) {
            errors.add(new FieldError(prefix + field, node.isString() ? rule : "must be a string; " + rule));
            return null;
        }
        return node.asString();
    }

    private static Integer integer(JsonNode request, String field, String prefix, int min, int max,
            List<FieldError> errors) {
        var node = request.get(field);
        if (isAbsent(node)) {
            return null;
        }
        var value = JsonNumbers.wholeIn(node, min, max);
        if (value == null) {
            errors.add(new FieldError(prefix + field, "must be an integer from " + min + " to " + max));
            return null;
        }
        return value.intValue();
    }

    /**
     * An ISO-8601 date and time with an offset ({@code Z}, {@code +01:00}, {@code +01}; seconds may be left out). A
     * leap second ({@code 23:59:60}, which RFC 3339 allows and clocks synchronised to UTC write) is read as the
     * second before it, and {@code 24:00:00} as the next day's midnight, as {@link Instant#parse} reads them.
     */
    static Instant parseInstant(String text) {
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeException e) {
            try {
                return Instant.parse(text);
            } catch (DateTimeException notThatEither) {
                throw e;
            }
        }
    }

    private static Instant instant(JsonNode request, String field, String prefix, List<FieldError> errors) {
        var node = request.get(field);
        if (isAbsent(node)) {
            return null;
        }
        if (node.isString()) {
            try {
                var instant = parseInstant(node.asString()).truncatedTo(ChronoUnit.MILLIS);
                if (!instant.isAfter(Storable.LATEST_RUN_AT)) {
                    return instant;
                }
            } catch (DateTimeException | ArithmeticException e) {
                // reported below
            }
        }
        errors.add(new FieldError(prefix + field, "must be an ISO-8601 instant such as 2026-11-28T12:00:00Z, "
                + "no later than " + Storable.LATEST_RUN_AT + " (an instant in the past means now)"));
        return null;
    }

    /**
     * What the idempotency key stands for: the request without the key and null fields, keys sorted; see
     * {@link RequestHash} for its numbers.
     */
    private static RequestHash hash(ObjectNode fields, Storable.Payload payload) {
        var exact = payload == null ? null : Json.tree(payload.json());
        if (exact == null || !hasDecimals(exact)) {
            // without decimals the tree is the same read either way: the hash is what it always was
            var hash = digest(fields, exact);
            return new RequestHash(hash, hash);
        }
        // read again with doubles, as before numbers were kept exactly, for keys stored before
        var legacy = digest(fields, CANONICAL.readTree(payload.json()));
        return new RequestHash(RequestHash.EXACT + digest(fields, normalized(exact)), legacy);
    }

    private static String digest(ObjectNode fields, JsonNode payload) {
        var copy = fields.deepCopy();
        if (payload != null) {
            copy.set("payload", payload);
        }
        copy.remove("idempotencyKey");
        copy.properties().removeIf(field -> field.getValue().isNull());
        // the request's own numbers as doubles, as they were read before they were kept exactly: 3.0 hashes as before
        copy.properties().forEach(field -> {
            if (field.getValue().isBigDecimal()) {
                field.setValue(JsonNodeFactory.instance.numberNode(field.getValue().doubleValue()));
            }
        });
        try {
            var digest = MessageDigest.getInstance("SHA-256")
                    .digest(CANONICAL.writeValueAsString(copy).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** Whether the tree holds a number with a fraction or an exponent (read exactly, a {@code DecimalNode}). */
    private static boolean hasDecimals(JsonNode node) {
        if (node.isBigDecimal()) {
            return true;
        }
        for (var child : node) {
            if (hasDecimals(child)) {
                return true;
            }
        }
        return false;
    }

    /** The tree with every decimal number without trailing zeros: {@code 2.50} and {@code 2.5} are one number. */
    private static JsonNode normalized(JsonNode node) {
        if (node.isBigDecimal()) {
            return JsonNodeFactory.instance.numberNode(node.decimalValue().stripTrailingZeros());
        }
        if (node.isObject()) {
            var copy = JsonNodeFactory.instance.objectNode();
            node.properties().forEach(field -> copy.set(field.getKey(), normalized(field.getValue())));
            return copy;
        }
        if (node.isArray()) {
            var copy = JsonNodeFactory.instance.arrayNode(node.size());
            node.forEach(child -> copy.add(normalized(child)));
            return copy;
        }
        return node;
    }
}
