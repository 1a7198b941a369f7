package dev.conveyor.api.web;

import dev.conveyor.api.ApiProperties;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Refuses a body announced larger than {@code conveyor.api.max-batch-body-bytes} (413) before any of it is read, so
 * that a 100 MB upload costs neither memory nor the time to receive it; a client that sent
 * {@code Expect: 100-continue} never sends it. A body without a Content-Length (chunked) is read by the controller
 * up to one byte past the limit, then refused the same way.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
class BodyLimitFilter extends OncePerRequestFilter {

    private final long maxBodyBytes;

    BodyLimitFilter(ApiProperties properties) {
        this.maxBodyBytes = properties.maxBatchBodyBytes();
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (request.getContentLengthLong() > maxBodyBytes) {
            var problem = Problems.forStatus(HttpStatus.CONTENT_TOO_LARGE.value());
            problem.setType(URI.create(ProblemAdvice.PROBLEM_BASE + "payload-too-large"));
            problem.setTitle("Request too large");
            problem.setDetail("The request body is larger than " + maxBodyBytes + " bytes");
            response.setStatus(HttpStatus.CONTENT_TOO_LARGE.value());
            response.setContentType(Problems.MEDIA_TYPE);
            // the rest of the body is not read: the connection cannot carry another request
            response.setHeader("Connection", "close");
            response.getOutputStream().write(Problems.json(problem));
            return;
        }
        chain.doFilter(request, response);
    }
}
