package dev.conveyor.api.dashboard;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.stereotype.Component;

/**
 * What a browser is told about the dashboard's files ({@code /}, {@code /index.html}, {@code /style.css},
 * {@code /js/}): run only the dashboard's own scripts and styles and talk only to this api (a value that found its
 * way into the page as markup could do nothing), never inside another site's frame (a page of another site could
 * otherwise show the dashboard under its own and have a user click Cancel or Retry), no guessing of content types,
 * and no address of the dashboard sent on to others. The api's own answers (JSON, problem documents) do not carry
 * them: a browser does not render those as pages.
 */
@Component
class DashboardHeaders implements Filter {

    static final String POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (isDashboard(((HttpServletRequest) request).getServletPath())) {
            var http = (HttpServletResponse) response;
            http.setHeader("Content-Security-Policy", POLICY);
            http.setHeader("X-Frame-Options", "DENY");
            http.setHeader("X-Content-Type-Options", "nosniff");
            http.setHeader("Referrer-Policy", "no-referrer");
        }
        chain.doFilter(request, response);
    }

    private static boolean isDashboard(String path) {
        return path.equals("/") || path.equals("/index.html") || path.equals("/style.css") || path.startsWith("/js/");
    }
}
