package dev.conveyor.local.bench;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The target of W2's {@code http} jobs, in the benchmark's JVM: answers every request on 127.0.0.1 after a fixed delay,
 * one virtual thread per request, and counts the most requests it had at once and the connections they came on.
 */
final class DelayServer implements AutoCloseable {

    private static final byte[] BODY = "ok".getBytes(StandardCharsets.UTF_8);

    private final HttpServer server;
    private final AtomicInteger current = new AtomicInteger();
    private final AtomicInteger most = new AtomicInteger();
    private final Set<InetSocketAddress> connections = ConcurrentHashMap.newKeySet();

    DelayServer(Duration delay) {
        server = LoopbackHttp.server("the benchmark's HTTP server");
        server.createContext("/", exchange -> {
            most.accumulateAndGet(current.incrementAndGet(), Math::max);
            connections.add(exchange.getRemoteAddress());
            try (exchange) {
                try {
                    Thread.sleep(delay);
                } finally {
                    // before the answer goes out: once the client has it, its next request on the same connection
                    // may arrive before this thread gets further, and would be counted as a second one at once
                    current.decrementAndGet();
                }
                exchange.getResponseHeaders().add("Content-Type", "text/plain");
                exchange.sendResponseHeaders(200, BODY.length);
                exchange.getResponseBody().write(BODY);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        server.start();
    }

    /** The base URI, such as {@code http://127.0.0.1:40123/}. */
    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
    }

    /** Forgets the counts, for a new run. */
    void reset() {
        most.set(current.get());
        connections.clear();
    }

    int mostAtOnce() {
        return most.get();
    }

    /** What a run's notes say of the server since {@link #reset()}. */
    String note() {
        return "HTTP server: at most " + mostAtOnce() + " requests at once on " + connections() + " connections";
    }

    /** Client connections seen since {@link #reset()} (distinct client address and port). */
    int connections() {
        return connections.size();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
