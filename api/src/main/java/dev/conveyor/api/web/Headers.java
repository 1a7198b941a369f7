package dev.conveyor.api.web;

import jakarta.servlet.http.HttpServletRequest;

/** Request headers that carry one value: sent twice, a servlet container would join them with a comma. */
public final class Headers {

    private Headers() {
    }

    /** The header's one value, or null when absent; a 400 naming it when it appears more than once. */
    public static String single(HttpServletRequest http, String name) {
        var values = http.getHeaders(name);
        if (values == null || !values.hasMoreElements()) {
            return null;
        }
        var value = values.nextElement();
        if (values.hasMoreElements()) {
            throw ApiException.invalid(name, "appears more than once; send it once");
        }
        return value;
    }
}
