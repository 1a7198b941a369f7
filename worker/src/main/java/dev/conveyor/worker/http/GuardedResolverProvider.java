package dev.conveyor.worker.http;

import java.net.spi.InetAddressResolver;
import java.net.spi.InetAddressResolverProvider;

/**
 * Installs {@link GuardedResolver} as the JVM's name resolver. {@code InetAddress} looks providers up once, at the
 * first name lookup after the JVM has booted, with {@link java.util.ServiceLoader} and the context class loader of the
 * thread making that lookup ({@code META-INF/services/java.net.spi.InetAddressResolverProvider}), and keeps the first
 * one found for the JVM's whole life (lookups made while the provider itself is being built get the built-in
 * resolver). Checked by hand: it is installed from the worker's classes on a class path, from the extracted jar of the
 * Docker image, and under Spring Boot's launcher. The resolver passes every lookup that is not the {@code http}
 * handler's to the built-in resolver. When another provider came first, or {@code jdk.net.hosts.file} replaced
 * resolution, this one is not installed and the {@code http} handler refuses every request (see {@link AddressGuard}).
 */
public class GuardedResolverProvider extends InetAddressResolverProvider {

    @Override
    public InetAddressResolver get(Configuration configuration) {
        var resolver = new GuardedResolver(upstream(configuration), System::nanoTime, GuardedResolver.REFRESH_NANOS);
        GuardedResolver.install(resolver);
        return resolver;
    }

    /** Where lookups that are not answered from a pin go: the JVM's built-in resolver (tests put a stub here). */
    protected InetAddressResolver upstream(Configuration configuration) {
        return configuration.builtinResolver();
    }

    @Override
    public String name() {
        return "conveyor-guarded";
    }
}
