package dev.conveyor.worker.http;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SystemDefaultDnsResolver;

/**
 * A scripted DNS for names ending in {@code .test}: each lookup of such a name takes the next scripted answer (the last
 * one repeats), as a rebinding attacker's DNS server would answer. All other names, IP literals among them, go to the
 * JVM's resolver. Handed to the {@code http} handler in place of the JVM's resolver.
 */
final class StubDns implements DnsResolver {

    private record Script(List<InetAddress[]> answers, AtomicInteger lookups) {
    }

    private final Map<String, Script> scripts = new ConcurrentHashMap<>();

    /** Scripts {@code host}'s answers, in order. */
    void answer(String host, InetAddress[]... answers) {
        scripts.put(host, new Script(List.of(answers), new AtomicInteger()));
    }

    /** How many lookups of {@code host} reached this DNS. */
    int lookups(String host) {
        var script = scripts.get(host);
        return script == null ? 0 : script.lookups().get();
    }

    static InetAddress[] addresses(String... literals) {
        return Stream.of(literals).map(InetAddress::ofLiteral).toArray(InetAddress[]::new);
    }

    @Override
    public InetAddress[] resolve(String host) throws UnknownHostException {
        if (!host.endsWith(".test")) {
            return SystemDefaultDnsResolver.INSTANCE.resolve(host);
        }
        var script = scripts.get(host);
        if (script == null) {
            throw new UnknownHostException(host);
        }
        var turn = script.lookups().getAndIncrement();
        return script.answers().get(Math.min(turn, script.answers().size() - 1)).clone();
    }

    @Override
    public String resolveCanonicalHostname(String host) {
        return host;
    }
}
