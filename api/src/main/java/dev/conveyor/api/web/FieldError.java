package dev.conveyor.api.web;

/** One offending field of a request, as {@code errors[]} of a problem document names it. */
public record FieldError(String field, String message) {
}
