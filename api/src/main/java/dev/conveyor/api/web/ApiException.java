package dev.conveyor.api.web;

import java.util.List;
import org.springframework.http.HttpStatus;

/** A request the api refuses; becomes a problem document. */
public class ApiException extends RuntimeException {

    /** Errors listed in one answer at most; the rest are counted in its detail. */
    public static final int MAX_ERRORS = 100;
    /** Fields named in a detail at most. */
    private static final int MAX_DETAIL_FIELDS = 10;

    private final HttpStatus status;
    private final String problemType;
    private final String title;
    private final List<FieldError> errors;

    public ApiException(HttpStatus status, String problemType, String title, String detail, List<FieldError> errors) {
        super(detail);
        this.status = status;
        this.problemType = problemType;
        this.title = title;
        this.errors = List.copyOf(errors);
    }

    /** 400 naming every bad field (at most {@link #MAX_ERRORS}). */
    public static ApiException invalid(List<FieldError> errors) {
        return invalid(errors, 0);
    }

    /**
     * 400 naming the first {@link #MAX_ERRORS} bad fields, counting the others: whatever the body, the answer stays
     * small. Its detail names at most {@link #MAX_DETAIL_FIELDS} of them, each cut short.
     *
     * @param unlisted errors found but not in {@code errors}
     */
    public static ApiException invalid(List<FieldError> errors, int unlisted) {
        var listed = listed(errors);
        var more = unlisted + errors.size() - listed.size();
        var total = listed.size() + more;
        String detail;
        if (total == 1) {
            detail = FieldError.shortened(listed.getFirst().field()) + ": " + listed.getFirst().message();
        } else {
            var names = listed.stream().map(FieldError::field).distinct().toList();
            var shown = names.stream().limit(MAX_DETAIL_FIELDS).map(FieldError::shortened).toList();
            detail = total + " fields are invalid: " + String.join(", ", shown)
                    + (names.size() > shown.size() ? ", ..." : "")
                    + (more > 0 ? "; " + more + " more are not listed" : "");
        }
        return new ApiException(HttpStatus.BAD_REQUEST, "validation", "Invalid request", detail, listed);
    }

    /** The first {@link #MAX_ERRORS} errors. */
    public static List<FieldError> listed(List<FieldError> errors) {
        return errors.size() > MAX_ERRORS ? errors.subList(0, MAX_ERRORS) : errors;
    }

    public static ApiException invalid(String field, String message) {
        return invalid(List.of(new FieldError(field, message)));
    }

    public static ApiException notFound(String detail) {
        return new ApiException(HttpStatus.NOT_FOUND, "not-found", "Not found", detail, List.of());
    }

    /** 401: the caller's key was revoked while its request waited, or while its body arrived. */
    public static ApiException revoked() {
        return new ApiException(HttpStatus.UNAUTHORIZED, "unauthorized", "Unauthorized",
                "The API key was revoked while the request was under way", List.of());
    }

    public static ApiException conflict(String problemType, String title, String detail) {
        return new ApiException(HttpStatus.CONFLICT, problemType, title, detail, List.of());
    }

    public HttpStatus status() {
        return status;
    }

    public String problemType() {
        return problemType;
    }

    public String title() {
        return title;
    }

    public List<FieldError> errors() {
        return errors;
    }
}
