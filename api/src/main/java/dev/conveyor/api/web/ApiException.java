package dev.conveyor.api.web;

import java.util.List;
import org.springframework.http.HttpStatus;

/** A request the api refuses; becomes a problem document. */
public class ApiException extends RuntimeException {

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

    /** 400 naming every bad field. */
    public static ApiException invalid(List<FieldError> errors) {
        var detail = errors.size() == 1
                ? errors.getFirst().field() + ": " + errors.getFirst().message()
                : errors.size() + " fields are invalid: " + String.join(", ",
                        errors.stream().map(FieldError::field).distinct().toList());
        return new ApiException(HttpStatus.BAD_REQUEST, "validation", "Invalid request", detail, errors);
    }

    public static ApiException invalid(String field, String message) {
        return invalid(List.of(new FieldError(field, message)));
    }

    public static ApiException notFound(String detail) {
        return new ApiException(HttpStatus.NOT_FOUND, "not-found", "Not found", detail, List.of());
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
