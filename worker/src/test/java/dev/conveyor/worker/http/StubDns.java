package dev.conveyor.worker.http;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.spi.InetAddressResolver;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The worker's resolver provider over a scripted DNS for names ending in {@code .test}: each lookup of such a name
 * takes the next scripted answer (the last one repeats), as a rebinding attacker's DNS server would answer. All other
 * names go to the JVM's built-in resolver. Registered in the test resources' {@code META-INF/services}, which come
 * first on the test class path, so the JVM installs it instead of the plain {@link GuardedResolverProvider}.
 */
public class StubDns extends GuardedResolverProvider {

    private static final Map<String, Script> SCRIPTS = new ConcurrentHashMap<>();

    private record Script(List<InetAddress[]> answers, AtomicInteger lookups) {
    }

    /** Scripts {@code host}'s answers, in order. */
    static void answer(String host, InetAddress[]... answers) {
        SCRIPTS.put(host, new Script(List.of(answers), new AtomicInteger()));
    }

    /** How many lookups of {@code host} reached this DNS. */
    static int lookups(String host) {
        var script = SCRIPTS.get(host);
        return script == null ? 0 : script.lookups().get();
    }

    static InetAddress[] addresses(String... literals) {
        return Stream.of(literals).map(InetAddress::ofLiteral).toArray(InetAddress[]::new);
    }

    @Override
    protected InetAddressResolver upstream(Configuration configuration) {
        var builtin = configuration.builtinResolver();
        return new InetAddressResolver() {
            @Override
            public Stream<InetAddress> lookupByName(String host, LookupPolicy policy) throws UnknownHostException {
                if (!host.endsWith(".test")) {
                    return builtin.lookupByName(host, policy);
                }
                var script = SCRIPTS.get(host);
                if (script == null) {
                    throw new UnknownHostException(host);
                }
                var turn = script.lookups().getAndIncrement();
                return Stream.of(script.answers().get(Math.min(turn, script.answers().size() - 1)));
            }

            @Override
            public String lookupByAddress(byte[] address) throws UnknownHostException {
                return builtin.lookupByAddress(address);
            }
        };
    }
}
