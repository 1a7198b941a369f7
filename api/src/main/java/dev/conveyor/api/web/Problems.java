package dev.conveyor.api.web;

import dev.conveyor.common.Json;
import java.net.URI;
import java.util.LinkedHashMap;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;

/**
 * Problem documents for refusals that never reach a controller: Tomcat's own (a malformed request line or header,
 * a body whose framing lies) and whatever lands on {@code /error}. Their detail is a fixed sentence per status, never
 * an exception's message, which may name classes, SQL or internals.
 */
final class Problems {

    static final String MEDIA_TYPE = "application/problem+json";

    private Problems() {
    }

    static ProblemDetail forStatus(int status) {
        var problem = ProblemDetail.forStatus(status);
        var known = HttpStatus.resolve(status);
        problem.setType(URI.create("about:blank"));
        problem.setTitle(known == null ? "HTTP " + status : known.getReasonPhrase());
        problem.setDetail(detail(status));
        return problem;
    }

    /** The document as JSON: {@code type}, {@code title}, {@code status}, {@code detail}, then any extensions. */
    static byte[] json(ProblemDetail problem) {
        var members = new LinkedHashMap<String, Object>();
        members.put("type", problem.getType().toString());
        members.put("title", problem.getTitle());
        members.put("status", problem.getStatus());
        members.put("detail", problem.getDetail());
        if (problem.getProperties() != null) {
            members.putAll(problem.getProperties());
        }
        return Json.writeBytes(members);
    }

    private static String detail(int status) {
        return switch (status) {
            case 400 -> "The request is malformed (its request line, a header, its encoding or its body framing) and "
                    + "was not processed.";
            case 404 -> "There is nothing at this path.";
            case 405 -> "This method is not allowed at this path.";
            case 408 -> "The request was not received in time.";
            case 411 -> "A request body needs a Content-Length or chunked transfer coding.";
            case 413 -> "The request is too large.";
            case 414 -> "The request target is too long.";
            case 415 -> "The request body is not of a supported media type; send application/json.";
            case 417 -> "The Expect header asks for something this server does not do.";
            case 431 -> "The request's headers are too large.";
            case 501 -> "The request uses a transfer coding this server does not implement; only chunked is.";
            case 505 -> "Only HTTP/1.1 (and HTTP/1.0) are served.";
            default -> status >= 500 ? "The request failed inside the api; the failure has been logged. Try again later."
                    : "The request was refused.";
        };
    }
}
