package dev.conveyor.api.tracing;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.slf4j.MDC;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * With tracing on, answers every request with the {@code traceparent} of its span, so a client can find the trace
 * of the job it submitted (and the worker's log lines about it). Not registered when tracing is off.
 */
@Component
@ConditionalOnProperty(name = "conveyor.tracing.enabled", havingValue = "true")
class TraceparentFilter extends OncePerRequestFilter {

    private final JobTracing tracing;

    TraceparentFilter(JobTracing tracing) {
        this.tracing = tracing;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        var traceparent = tracing.currentTraceparent();
        if (traceparent != null) {
            response.setHeader(JobTracing.TRACEPARENT, traceparent);
        }
        try {
            chain.doFilter(request, response);
        } finally {
            MDC.remove(JobTracing.JOB_ID);
        }
    }
}
