package dev.conveyor.api.auth;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
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

    @Override
    public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler)
            throws IOException {
        // an error page for a request already refused or failed (Tomcat's own refusals never passed AuthFilter)
        if (!(handler instanceof HandlerMethod method) || request.getDispatcherType() == DispatcherType.ERROR) {
            return true;
        }
        var required = AnnotatedElementUtils.findMergedAnnotation(method.getMethod(), RequiresScope.class);
        if (required == null) {
            required = AnnotatedElementUtils.findMergedAnnotation(method.getBeanType(), RequiresScope.class);
        }
        if (required == null && !method.getBeanType().getName().startsWith(OWN_PACKAGE)) {
            return true;
        }
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
}
