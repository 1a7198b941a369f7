package dev.conveyor.api.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Lets a response leave whole, with a {@code Content-Length}, in one write. Spring MVC flushes the response after
 * writing a {@code ResponseEntity} (every 202 of {@code POST /v1/jobs} and every problem), which commits it before
 * the handler returns; Tomcat then cannot know the length and sends the body chunked, in a second write for the
 * closing chunk that the client reads separately. No endpoint streams, so an explicit flush is ignored: Tomcat still
 * sends a response as it goes once it outgrows the response buffer, and whole at the end of the request otherwise.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
class WholeResponses extends OncePerRequestFilter {

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        chain.doFilter(request, new Unflushed(response));
    }

    private static final class Unflushed extends HttpServletResponseWrapper {

        Unflushed(HttpServletResponse response) {
            super(response);
        }

        @Override
        public void flushBuffer() {
            // sent whole when the request ends (or as the buffer fills)
        }
    }
}
