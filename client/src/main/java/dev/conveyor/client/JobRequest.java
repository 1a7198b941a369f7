package dev.conveyor.client;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import tools.jackson.databind.node.ObjectNode;

/**
 * A job to submit: {@code JobRequest.of("email", new Email(...)).queue("emails").maxAttempts(5)}. The payload is any
 * object Jackson writes as a JSON object (a record, a map, a {@code JsonNode}); unset fields take the api's defaults
 * (docs/api.md, "SubmitRequest"). Immutable: each {@code with} method returns a new request.
 */
public record JobRequest(String type, Object payload, String queue, Integer maxAttempts, Duration timeout,
        Instant runAt, Duration delay, String idempotencyKey) {

    public JobRequest {
        Objects.requireNonNull(type, "type");
        if (runAt != null && delay != null) {
            throw new IllegalArgumentException("give runAt or delay, not both");
        }
        // the api counts both in whole seconds: a fraction would be cut off, and a job run earlier, or an attempt
        // stopped sooner, than asked
        wholeSeconds("timeout", timeout);
        wholeSeconds("delay", delay);
    }

    private static void wholeSeconds(String field, Duration value) {
        if (value != null && value.getNano() != 0) {
            throw new IllegalArgumentException(field + " must be whole seconds, not " + value);
        }
    }

    /** A job of {@code type} with an empty payload. */
    public static JobRequest of(String type) {
        return new JobRequest(type, null, null, null, null, null, null, null);
    }

    public static JobRequest of(String type, Object payload) {
        return of(type).payload(payload);
    }

    public JobRequest payload(Object payload) {
        return new JobRequest(type, payload, queue, maxAttempts, timeout, runAt, delay, idempotencyKey);
    }

    public JobRequest queue(String queue) {
        return new JobRequest(type, payload, queue, maxAttempts, timeout, runAt, delay, idempotencyKey);
    }

    /** Attempts allowed, 1 to 100 (the api's default: 3). */
    public JobRequest maxAttempts(int maxAttempts) {
        return new JobRequest(type, payload, queue, maxAttempts, timeout, runAt, delay, idempotencyKey);
    }

    /** Time allowed per attempt, whole seconds from 1 s to 24 h (the api's default: 300 s). */
    public JobRequest timeout(Duration timeout) {
        return new JobRequest(type, payload, queue, maxAttempts, timeout, runAt, delay, idempotencyKey);
    }

    /** Run at this instant (in the past means now); not together with {@link #delay(Duration)}. */
    public JobRequest runAt(Instant runAt) {
        return new JobRequest(type, payload, queue, maxAttempts, timeout, runAt, delay, idempotencyKey);
    }

    /** Run this long from now, in whole seconds; not together with {@link #runAt(Instant)}. */
    public JobRequest delay(Duration delay) {
        return new JobRequest(type, payload, queue, maxAttempts, timeout, runAt, delay, idempotencyKey);
    }

    /**
     * The same key with the same request answers the earlier job instead of making a second one. Without a key the
     * client makes one up (see {@link ConveyorClient}), so that it may send the request again after a failure.
     */
    public JobRequest idempotencyKey(String idempotencyKey) {
        return new JobRequest(type, payload, queue, maxAttempts, timeout, runAt, delay, idempotencyKey);
    }

    /** The request as the api reads it, with {@code key} as its idempotency key (null for none). */
    ObjectNode toJson(String key) {
        var json = ClientJson.MAPPER.createObjectNode();
        json.put("type", type);
        if (queue != null) {
            json.put("queue", queue);
        }
        if (payload != null) {
            var tree = ClientJson.MAPPER.valueToTree(payload);
            if (!tree.isObject()) {
                throw new IllegalArgumentException("the payload must be written as a JSON object, not " + tree);
            }
            json.set("payload", tree);
        }
        if (maxAttempts != null) {
            json.put("maxAttempts", maxAttempts);
        }
        if (timeout != null) {
            json.put("timeoutSeconds", timeout.toSeconds());
        }
        if (runAt != null) {
            json.put("runAt", runAt.toString());
        }
        if (delay != null) {
            json.put("delaySeconds", delay.toSeconds());
        }
        if (key != null) {
            json.put("idempotencyKey", key);
        }
        return json;
    }
}
