package dev.conveyor.worker.http;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.spi.InetAddressResolver;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * The worker JVM's name resolver (installed by {@link GuardedResolverProvider}): it makes the {@code http} handler's
 * client connect to the addresses its {@link AddressGuard} checked, with no second DNS lookup in between that a
 * rebinding name could answer with 127.0.0.1.
 *
 * <p>Why a resolver: {@code java.net.http.HttpClient} resolves the URL's host itself when it connects
 * ({@code new InetSocketAddress(host, port)}), and has no way to be handed an address while keeping the host name for
 * the {@code Host} header, TLS SNI and certificate checks. Every name lookup in the JVM goes through the JVM's address
 * cache and then through one {@link InetAddressResolver}, so answering there is the one place that covers every path
 * the client takes (its first connection, HTTP/2 pool keys, a retried connect).
 *
 * <ul>
 *   <li><b>Pins.</b> While a job's request is under way (from the guard's check until the response is read or given
 *       up) its host is <i>pinned</i>. A pin asks DNS once, normally for the guard's own check, or keeps the answer
 *       the guard got from the JVM's cache; every lookup of the host that reaches this resolver while the pin lasts
 *       (the JVM's cache having expired meanwhile, say) gets that same answer, so the client connects to the addresses
 *       the guard judged. Concurrent jobs to one host share one pin; it goes with the last of them. A pin held without
 *       a break for longer than {@link #REFRESH_NANOS} asks DNS again and takes the new answer only if every address
 *       in it passes the rules, so a busy host still follows a DNS change and a rebinding answer is ignored.
 *   <li><b>The client's own threads.</b> The client runs on the handler's executor, whose threads carry the rules
 *       ({@link #CLIENT}). An answer given there, pinned or not, must pass them, else the lookup fails: the client
 *       never learns a refused address from this resolver, not even in a lookup it makes after a job stopped
 *       waiting (which the JDK avoids anyway: a cancelled exchange is not retried).
 *   <li><b>Everything else</b> (Kafka, PostgreSQL, the {@code sql} handler, tracing) goes to the JVM's built-in
 *       resolver unchanged; a refused answer is never turned into a failure there, so a job naming Kafka's host
 *       cannot make the JVM cache a failed lookup for it.
 * </ul>
 *
 * <p>A pooled keep-alive connection that a later job reuses was opened to a checked address, so it needs no new
 * check; redirects are followed by the handler, each hop checked and pinned like the first request. IP literals never
 * reach a resolver; the guard checks them as they are.
 */
final class GuardedResolver implements InetAddressResolver {

    /** The rules of the handler whose HTTP client runs on the current thread. */
    static final ScopedValue<AddressRules> CLIENT = ScopedValue.newInstance();

    /** A name in the reserved {@code .invalid} domain that only this resolver answers: proof that it is installed. */
    static final String PROBE = "conveyor-resolver-probe.invalid";

    static final long REFRESH_NANOS = 30_000_000_000L;

    private static volatile GuardedResolver installed;

    private final InetAddressResolver upstream;
    private final LongSupplier nanoTime;
    private final long refreshNanos;
    private final ConcurrentHashMap<String, Pin> pins = new ConcurrentHashMap<>();

    GuardedResolver(InetAddressResolver upstream, LongSupplier nanoTime, long refreshNanos) {
        this.upstream = upstream;
        this.nanoTime = nanoTime;
        this.refreshNanos = refreshNanos;
    }

    static void install(GuardedResolver resolver) {
        installed = resolver;
    }

    /** The JVM's resolver if it is this one (loading it first, as the JVM does at its first lookup), else null. */
    static GuardedResolver installed() {
        try {
            InetAddress.getAllByName(PROBE);
        } catch (UnknownHostException notOurs) {
            return null;
        }
        return installed;
    }

    /** One request's hold on a pinned host; closing it lets the pin go once no other request holds it. */
    final class Lease implements AutoCloseable {

        private final Pin pin;
        private boolean closed;

        private Lease(Pin pin) {
            this.pin = pin;
        }

        /**
         * Keeps {@code checked} (which the JVM's cache may have given without asking this resolver) as the host's
         * answer, unless the pin holds one already.
         */
        void keep(InetAddress[] checked) {
            pin.keep(checked);
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                pins.computeIfPresent(pin.host, (k, current) -> current == pin && --pin.users == 0 ? null : current);
            }
        }
    }

    /** A host's checked answer, shared by the requests to it under way. */
    private final class Pin {

        private final String host;
        private final AddressRules rules;
        private final ReentrantLock lock = new ReentrantLock();
        /** Requests using the pin; changed only inside the map's atomic compute. */
        private int users;
        private InetAddress[] addresses;
        private long keptAt;

        private Pin(String host, AddressRules rules) {
            this.host = host;
            this.rules = rules;
        }

        private void keep(InetAddress[] checked) {
            lock.lock();
            try {
                if (addresses == null) {
                    addresses = checked.clone();
                    keptAt = nanoTime.getAsLong();
                }
            } finally {
                lock.unlock();
            }
        }

        private InetAddress[] answer(LookupPolicy policy, AddressRules clientRules) throws UnknownHostException {
            lock.lock();
            try {
                if (addresses == null) {
                    // The pin's one DNS lookup, normally the guard's own check (which judges this raw answer and names
                    // a refused address); every later lookup of the host gets the same answer while the pin lasts.
                    addresses = upstream.lookupByName(host, policy).toArray(InetAddress[]::new);
                    keptAt = nanoTime.getAsLong();
                } else if (nanoTime.getAsLong() - keptAt > refreshNanos) {
                    refresh(policy);
                }
                return clientRules == null ? addresses : checked(host, addresses, clientRules);
            } finally {
                lock.unlock();
            }
        }

        private void refresh(LookupPolicy policy) {
            keptAt = nanoTime.getAsLong();
            try {
                var fresh = upstream.lookupByName(host, policy).toArray(InetAddress[]::new);
                if (fresh.length > 0 && rules.refusal(fresh) == null) {
                    addresses = fresh;
                }
            } catch (UnknownHostException keepTheCheckedAnswer) {
                // DNS failing now does not make the checked addresses wrong.
            }
        }
    }

    /** Pins {@code host} for a request judged by {@code rules}, sharing the pin of requests to it already under way. */
    Lease pin(String host, AddressRules rules) {
        return new Lease(pins.compute(key(host), (k, existing) -> {
            var pin = existing == null ? new Pin(k, rules) : existing;
            pin.users++;
            return pin;
        }));
    }

    /** Hosts pinned now. */
    int pinned() {
        return pins.size();
    }

    @Override
    public Stream<InetAddress> lookupByName(String host, LookupPolicy policy) throws UnknownHostException {
        if (PROBE.equals(host)) {
            return Stream.of(InetAddress.getLoopbackAddress());
        }
        var rules = CLIENT.isBound() ? CLIENT.get() : null;
        var pin = pins.get(key(host));
        if (pin != null) {
            return family(host, pin.answer(policy, rules), policy);
        }
        if (rules != null) {
            var raw = upstream.lookupByName(host, policy).toArray(InetAddress[]::new);
            return Stream.of(checked(host, raw, rules));
        }
        return upstream.lookupByName(host, policy);
    }

    @Override
    public String lookupByAddress(byte[] address) throws UnknownHostException {
        return upstream.lookupByAddress(address);
    }

    private static InetAddress[] checked(String host, InetAddress[] addresses, AddressRules rules)
            throws UnknownHostException {
        var refusal = rules.refusal(addresses);
        if (refusal != null) {
            throw new UnknownHostException("refused: host '" + host + "' resolves to " + refusal);
        }
        return addresses;
    }

    private static Stream<InetAddress> family(String host, InetAddress[] addresses, LookupPolicy policy)
            throws UnknownHostException {
        var ipv4 = (policy.characteristics() & LookupPolicy.IPV4) != 0;
        var ipv6 = (policy.characteristics() & LookupPolicy.IPV6) != 0;
        var wanted = Arrays.stream(addresses).filter(a -> a instanceof Inet4Address ? ipv4 : ipv6).toList();
        if (wanted.isEmpty()) {
            throw new UnknownHostException(host);
        }
        return wanted.stream();
    }

    private static String key(String host) {
        return host.toLowerCase(Locale.ROOT);
    }
}
