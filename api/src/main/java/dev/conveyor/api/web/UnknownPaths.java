package dev.conveyor.api.web;

import jakarta.servlet.http.HttpServletRequest;
import java.util.Optional;
import org.springframework.http.server.PathContainer;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;
import org.springframework.web.servlet.support.RequestContextUtils;

/**
 * The detail of a 404 for a path no route has. Spring's own ("No static resource v1/jobs.") speaks of files, and drops
 * the trailing slash that made the path unknown: a route's path with one (a base URL that ends in {@code /}) is named
 * without it. The api neither redirects nor strips it (Spring 6 no longer matches it), so that the path the auth
 * filter and the scopes check is the path that runs.
 */
final class UnknownPaths {

    static final String DETAIL = "There is nothing at this path.";

    private UnknownPaths() {
    }

    static String detail(HttpServletRequest request) {
        return meant(request).map(path -> DETAIL + " Paths take no trailing slash: " + path).orElse(DETAIL);
    }

    /** The path without its trailing slashes, if a route of the api's controllers has it. */
    private static Optional<String> meant(HttpServletRequest request) {
        var path = request.getRequestURI().substring(request.getContextPath().length());
        if (!path.endsWith("/")) {
            return Optional.empty();
        }
        var end = path.length();
        while (end > 0 && path.charAt(end - 1) == '/') {
            end--;
        }
        if (end == 0) {
            return Optional.empty();
        }
        var stripped = path.substring(0, end);
        var context = RequestContextUtils.findWebApplicationContext(request);
        if (context == null) {
            return Optional.empty();
        }
        var container = PathContainer.parsePath(stripped);
        var routes = context.getBean("requestMappingHandlerMapping", RequestMappingHandlerMapping.class);
        for (var info : routes.getHandlerMethods().keySet()) {
            var patterns = info.getPathPatternsCondition();
            if (patterns != null && patterns.getPatterns().stream().anyMatch(p -> p.matches(container))) {
                return Optional.of(stripped);
            }
        }
        return Optional.empty();
    }
}
