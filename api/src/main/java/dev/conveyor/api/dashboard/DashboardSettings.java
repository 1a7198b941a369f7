package dev.conveyor.api.dashboard;

import dev.conveyor.api.web.JsonAnswers;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;

/**
 * {@code GET /dashboard.json}: the settings the dashboard's page reads as it starts. One of the dashboard's files, made
 * from the configuration, and like them open without a key (it says nothing about jobs); answered here rather than
 * by a controller, since every endpoint of the api needs a key with a scope. Not part of {@code /v1}.
 */
@Component
class DashboardSettings implements Filter {

    /** Its path; the page asks for it relative to itself, so that the dashboard works behind a path prefix. */
    static final String PATH = "/dashboard.json";

    /**
     * The answer.
     *
     * @param refreshMillis how long each view waits after one refresh before the next
     */
    record Settings(long refreshMillis) {
    }

    private final Settings settings;
    private final JsonAnswers answers;

    DashboardSettings(DashboardProperties properties, JsonAnswers answers) {
        this.settings = new Settings(properties.refresh().toMillis());
        this.answers = answers;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        var http = (HttpServletRequest) request;
        // a HEAD as its GET: Tomcat sends the head of the answer without its body
        var method = http.getMethod();
        if (http.getServletPath().equals(PATH) && (method.equals("GET") || method.equals("HEAD"))) {
            answers.write((HttpServletResponse) response, HttpStatus.OK, settings);
            return;
        }
        chain.doFilter(request, response);
    }
}
