package dev.conveyor.api.auth;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.lang.reflect.Method;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.HandlerInterceptor;

/**
 * Refuses (403) a request whose key lacks the scope the matched endpoint needs. It looks at the handler that will
 * run, so no spelling of a path can reach an endpoint past its rule. Conveyor's own endpoints without
 * {@link RequiresScope} are refused; Spring's and springdoc's (static files, the OpenAPI document) pass.
 */
class ScopeInterceptor implements HandlerInterceptor {

    private static final String OWN_PACKAGE = "dev.conveyor.";

    /**
     * Each endpoint's rule, found once: looking the annotation up (method, then class, merged) walks the type
     * hierarchy, a cost paid on every request otherwise. Bounded by the application's handler methods.
     */
    private final ConcurrentMap<Endpoint, Rule> rules = new ConcurrentHashMap<>();

    @Override
    public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler)
            throws IOException {
        // an error page for a request already refused or failed (Tomcat's own refusals never passed AuthFilter)
        if (!(handler instanceof HandlerMethod method) || request.getDispatcherType() == DispatcherType.ERROR) {
            return true;
        }
        var rule = rules.computeIfAbsent(new Endpoint(method.getBeanType(), method.getMethod()),
                key -> Rule.of(method));
        if (rule.open()) {
            return true;
        }
        var required = rule.required().orElse(null);
        var caller = (Caller) request.getAttribute(AuthFilter.CALLER);
        if (caller == null) {
            // only open paths reach here without a caller, and none of them is an endpoint of ours
            AuthFilter.refuse(response, 401, "unauthorized", "Unauthorized",
                    "Send an API key: Authorization: Bearer <key>");
            return false;
        }
        if (required == null) {
            AuthFilter.refuse(response, 403, "forbidden", "Forbidden", "This endpoint declares no scope");
            return false;
        }
        if (!caller.has(required.value())) {
            AuthFilter.refuse(response, 403, "forbidden", "Forbidden",
                    "This key lacks the scope " + required.value().value() + ", which this endpoint needs");
            return false;
        }
        return true;
    }

    /** A handler method of a bean type (a method inherited by two controllers is two endpoints). */
    private record Endpoint(Class<?> beanType, Method method) {
    }

    /**
     * What an endpoint needs: a scope, or nothing because it is not one of Conveyor's own ({@code open}); one of
     * ours without a scope is refused.
     */
    private record Rule(Optional<RequiresScope> required, boolean open) {

        static Rule of(HandlerMethod method) {
            var required = AnnotatedElementUtils.findMergedAnnotation(method.getMethod(), RequiresScope.class);
            if (required == null) {
                required = AnnotatedElementUtils.findMergedAnnotation(method.getBeanType(), RequiresScope.class);
            }
            return new Rule(Optional.ofNullable(required),
                    required == null && !method.getBeanType().getName().startsWith(OWN_PACKAGE));
        }
    }
}
