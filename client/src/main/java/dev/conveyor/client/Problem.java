package dev.conveyor.client;

import java.util.List;

/**
 * An RFC 9457 problem document as the api answers a refusal (docs/api.md, "Problem").
 *
 * @param errors every offending field, for validation problems; empty otherwise
 */
public record Problem(String type, String title, int status, String detail, String instance,
        List<FieldError> errors) {

    public Problem {
        errors = errors == null ? List.of() : List.copyOf(errors);
    }

    /** One offending field: {@code type}, {@code jobs[3].payload}, {@code Idempotency-Key}, ... */
    public record FieldError(String field, String message) {
    }
}
