package dev.conveyor.api.web;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import tools.jackson.databind.ObjectWriter;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes the job endpoints' answers straight to the response, as JSON, with the mapper Spring MVC's converter uses.
 * Every body of this api is JSON (the contract), so a request's {@code Accept} changes nothing here. Through Spring
 * MVC's content negotiation, {@code Accept: text/html} turned the answer to a submission that had been stored (and
 * whose job then ran) into a 406, which a client takes for a failure and sends again. Written here, an answer also
 * skips the choice of return value handler, converter and media type that Spring MVC makes for every response, a
 * tenth of the api's CPU for single submissions.
 */
@Component
public class JsonAnswers {

    private final JsonMapper mapper;
    private final Map<Class<?>, ObjectWriter> writers = new ConcurrentHashMap<>();

    JsonAnswers(JsonMapper mapper) {
        this.mapper = mapper;
    }

    /** Answers {@code body} as JSON with {@code status}, whole, with its length; headers set before are kept. */
    public void write(HttpServletResponse response, HttpStatus status, Object body) throws IOException {
        var bytes = writers.computeIfAbsent(body.getClass(), mapper::writerFor).writeValueAsBytes(body);
        response.setStatus(status.value());
        response.setContentType(MediaType.APPLICATION_JSON_VALUE);
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }
}
