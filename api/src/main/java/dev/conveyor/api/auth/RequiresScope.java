package dev.conveyor.api.auth;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The scope a caller's key needs for an endpoint (on the method or its controller). Every endpoint of the api must
 * say: one that does not is refused to every key ({@link ScopeInterceptor}), so a forgotten annotation shows at once.
 */
@Target({ElementType.METHOD, ElementType.TYPE})
@Retention(RetentionPolicy.RUNTIME)
public @interface RequiresScope {

    Scope value();
}
