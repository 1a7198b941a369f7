package dev.conveyor.api.auth;

import dev.conveyor.api.web.ProblemAdvice;
import dev.conveyor.common.Json;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.server.PathContainer;
import org.springframework.http.server.RequestPath;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Finds who sends each request from its {@code Authorization: Bearer <key>} header and refuses requests without a
 * valid key (401), before anything else runs. What the caller may then do is decided by the endpoint
 * ({@link RequiresScope}); the actuator's endpoints, which are not controllers, need {@code admin} here.
 *
 * <p>Open without a key: the dashboard's files and settings (they hold no data: its pages fetch the data with the
 * key), the OpenAPI document and its viewer, and the liveness and readiness probes (no details). Everything else,
 * including paths that match nothing (so that a caller without a key learns nothing from a 404), needs a key.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 10)
public class AuthFilter extends OncePerRequestFilter {

    /** The request attribute holding the {@link Caller}. */
    public static final String CALLER = Caller.class.getName();

    private static final Set<String> OPEN_PATHS = Set.of("/", "/index.html", "/style.css", "/dashboard.json",
            "/favicon.ico", "/swagger-ui.html", "/actuator/health/liveness", "/actuator/health/readiness");
    private static final String[] OPEN_PREFIXES = {"/js/", "/v3/api-docs", "/swagger-ui/"};
    private static final Pattern IPV4 = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");

    private final ApiKeys keys;
    private final AuthProperties properties;
    /**
     * Without keys, whether the {@code Host} is checked: when the api keeps itself to the loopback interface
     * ({@link OpenBinding}: {@code server.address} not set), or {@code open-hosts} says which names it answers to. An
     * operator who set {@code server.address} alone exposed it on purpose (a container on its network, a proxy).
     */
    private final boolean checkHosts;

    AuthFilter(ApiKeys keys, AuthProperties properties, Environment environment) {
        this.keys = keys;
        this.properties = properties;
        ActuatorPlacement.check(environment, properties.enabled());
        var address = environment.getProperty("server.address");
        this.checkHosts = !properties.openHosts().isEmpty() || address == null || address.isBlank();
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (!keys.enabled()) {
            var host = hostName(request);
            if (checkHosts && !isLoopbackName(host) && !properties.openTo(host)) {
                // A page of another site whose name its owner pointed at 127.0.0.1 (DNS rebinding) is, to the
                // browser, that site's own: it could submit, read and cancel jobs here. The name gives it away.
                refuse(response, 403, "forbidden", "Forbidden", "This api runs without API keys and so answers only "
                        + "requests addressed to it by a loopback name (localhost, 127.0.0.1, [::1]) or one of "
                        + "conveyor.api.auth.open-hosts, not to " + shortened(host) + "; configure keys, or list the "
                        + "name in open-hosts if whoever can reach it under that name may do anything");
                return;
            }
            var origin = request.getHeader(HttpHeaders.ORIGIN);
            if (checkHosts && origin != null && !answersOrigin(origin)) {
                // A page of another site may send a browser's "simple" requests here (a form's POST) without being
                // able to read the answers: enough to cancel or retry a job whose id it learned. Browsers name the
                // page's site in Origin on every such POST.
                refuse(response, 403, "forbidden", "Forbidden", "This api runs without API keys and so answers "
                        + "browsers only for pages it serves itself or of a loopback name or one of "
                        + "conveyor.api.auth.open-hosts, not for a page of " + shortened(origin)
                        + "; configure keys to serve other sites' pages");
                return;
            }
            request.setAttribute(CALLER, Caller.OPEN);
            chain.doFilter(request, response);
            return;
        }
        var path = path(request);
        var routed = routedPath(request, path);
        var actuator = isActuator(path) || isActuator(routed);
        var open = isOpen(path) && isOpen(routed);
        var authorizations = request.getHeaders(HttpHeaders.AUTHORIZATION);
        var authorization = authorizations != null && authorizations.hasMoreElements()
                ? authorizations.nextElement() : null;
        if (authorization != null && authorizations.hasMoreElements()) {
            // which one counts would be this api's guess, and a proxy in front may have guessed otherwise
            refuse(response, 400, "validation", "Invalid request",
                    "Authorization: appears more than once; send one key", HttpHeaders.AUTHORIZATION,
                    "appears more than once; send one key");
            return;
        }
        var presented = bearer(authorization);
        var caller = presented == null ? null : keys.authenticate(presented).orElse(null);
        if (caller != null) {
            if (actuator && !open && !caller.admin()) {
                refuse(response, 403, "forbidden", "Forbidden",
                        "This key lacks the scope admin, which the actuator's endpoints need");
                return;
            }
            request.setAttribute(CALLER, caller);
            chain.doFilter(request, response);
        } else if (open) {
            chain.doFilter(request, response);
        } else {
            response.setHeader(HttpHeaders.WWW_AUTHENTICATE, presented == null
                    ? "Bearer realm=\"conveyor\""
                    : "Bearer realm=\"conveyor\", error=\"invalid_token\"");
            refuse(response, 401, "unauthorized", "Unauthorized", presented == null
                    ? "Send an API key: Authorization: Bearer <key>"
                    : "The API key is not valid (unknown or revoked)");
        }
    }

    /** The path as the servlet container decoded and normalized it, which is what the mappings see. */
    private static String path(HttpServletRequest request) {
        var path = request.getServletPath();
        var info = request.getPathInfo();
        return info == null ? path : path + info;
    }

    /**
     * The path as Spring MVC routes it: the request's URI as sent, each segment decoded and without its parameters,
     * but with the {@code .} and {@code ..} segments that the servlet container resolved in {@code path} left in
     * ({@code /actuator/health/x/..;/liveness} is the liveness probe to the container, the health of a component
     * {@code x} with two segments more to Spring). A request is judged by both: the actuator's if either is, open
     * only if both are. Read only for a URI that is not its path already, which is nearly every request.
     */
    private static String routedPath(HttpServletRequest request, String path) {
        var uri = request.getRequestURI();
        if (uri.equals(path)) {
            return path;
        }
        var routed = new StringBuilder();
        for (var element : RequestPath.parse(uri, request.getContextPath()).pathWithinApplication().elements()) {
            routed.append(element instanceof PathContainer.PathSegment segment ? segment.valueToMatch()
                    : element.value());
        }
        return routed.toString();
    }

    /**
     * The actuator's paths, its index ({@code /actuator}, which lists the others) included: the index is not under
     * {@code /actuator/}, and a key without {@code admin} was shown it.
     */
    private static boolean isActuator(String path) {
        return path.equals("/actuator") || path.startsWith("/actuator/");
    }

    private static boolean isOpen(String path) {
        if (OPEN_PATHS.contains(path)) {
            return true;
        }
        for (var prefix : OPEN_PREFIXES) {
            if (path.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether a request's host name (its {@code Host} header without the port) can only mean this machine: {@code
     * localhost} and names under it (which browsers resolve to the loopback interface themselves), and loopback
     * addresses.
     */
    static boolean isLoopbackName(String name) {
        if (name == null || name.isEmpty()) {
            return true; // no Host (HTTP/1.0): the server's own address stands in for it
        }
        var host = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        if (host.equalsIgnoreCase("localhost") || host.regionMatches(true, host.length() - 10, ".localhost", 0, 10)) {
            return true;
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (!IPV4.matcher(host).matches()) {
            return false; // a name: resolving it here would be the attacker's answer again
        }
        try {
            return InetAddress.ofLiteral(host).isLoopbackAddress();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * Whether a request that a browser sent for a page of {@code origin} (its {@code Origin} header) is answered
     * without keys: a page of a loopback name or of one of {@code open-hosts}, whatever its port. {@code null} (a
     * sandboxed frame, a local file) is no site at all.
     */
    private boolean answersOrigin(String origin) {
        String host;
        try {
            host = URI.create(origin).getHost();
        } catch (IllegalArgumentException e) {
            return false;
        }
        return host != null && (isLoopbackName(host) || properties.openTo(host));
    }

    /**
     * The name a request was addressed to: its {@code Host} header, without the port, as the client sent it. Not
     * {@code getServerName()}: where forwarded headers are honoured ({@code server.forward-headers-strategy}, or by
     * default on a cloud platform) that is {@code X-Forwarded-Host}, which a page may set on its own requests.
     * Without a {@code Host} (HTTP/1.0), the server's own name.
     */
    static String hostName(HttpServletRequest request) {
        var header = request.getHeader(HttpHeaders.HOST);
        if (header == null) {
            return request.getServerName();
        }
        var end = header.startsWith("[") ? header.indexOf(']') + 1 : header.indexOf(':');
        return end <= 0 ? header : header.substring(0, end);
    }

    private static String shortened(String name) {
        return name.length() > 100 ? name.substring(0, 100) + "..." : name;
    }

    /** The key of {@code Bearer <key>} (the scheme in any case), or null. */
    static String bearer(String header) {
        if (header == null || header.length() < 8 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        var key = header.substring(7).strip();
        return key.isEmpty() ? null : key;
    }

    static void refuse(HttpServletResponse response, int status, String type, String title, String detail)
            throws IOException {
        refuse(response, status, type, title, detail, null, null);
    }

    /** A problem, naming {@code field} in its {@code errors} when given. */
    private static void refuse(HttpServletResponse response, int status, String type, String title, String detail,
            String field, String message) throws IOException {
        var problem = new LinkedHashMap<String, Object>();
        problem.put("type", ProblemAdvice.PROBLEM_BASE + type);
        problem.put("title", title);
        problem.put("status", status);
        problem.put("detail", detail);
        if (field != null) {
            problem.put("errors", List.of(Map.of("field", field, "message", message)));
        }
        response.setStatus(status);
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        response.getOutputStream().write(Json.MAPPER.writeValueAsBytes(problem));
    }
}
