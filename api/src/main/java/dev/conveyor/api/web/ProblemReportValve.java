package dev.conveyor.api.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tomcat's error report as a problem document instead of an HTML page. Tomcat answers some requests itself, before
 * Spring sees them: a request line or header it cannot parse (a CR inside a header, one over
 * {@code server.max-http-request-header-size}), an encoded {@code /}, {@code \} or NUL in the path, a
 * Content-Length that is not a number, an unknown {@code Expect}, an HTTP version it does not speak.
 */
class ProblemReportValve extends ErrorReportValve {

    private static final Logger log = LoggerFactory.getLogger(ProblemReportValve.class);

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
        var status = response.getStatus();
        if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
            return;
        }
        if (status >= 500) {
            log.error("Answered {} to {} {}", status, request.getMethod(), request.getRequestURI(), throwable);
        }
        try {
            response.setContentType(Problems.MEDIA_TYPE);
            response.setCharacterEncoding("UTF-8");
            var writer = response.getReporter();
            if (writer != null) {
                writer.write(new String(Problems.json(Problems.forStatus(status)), StandardCharsets.UTF_8));
                response.finishResponse();
            }
        } catch (IOException | IllegalStateException e) {
            // the client is gone or the response cannot take a body: nothing more to say
        }
    }
}
