package dev.conveyor.worker.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/** A real HTTP server on 127.0.0.1 (JDK {@code HttpServer}), one virtual thread per exchange. */
final class TestServer implements AutoCloseable {

    /** Answers one exchange. */
    @FunctionalInterface
    interface Route {
        void answer(HttpExchange exchange) throws Exception;
    }

    private final HttpServer server;

    TestServer() {
        this(InetAddress.getLoopbackAddress(), 0);
    }

    /** On {@code address} and {@code port} (0 for any free one). */
    TestServer(InetAddress address, int port) {
        try {
            server = HttpServer.create(new InetSocketAddress(address, port), 10_000);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
    }

    TestServer route(String path, Route route) {
        server.createContext(path, exchange -> {
            try (exchange) {
                route.answer(exchange);
            } catch (Exception e) {
                throw new IOException(e);
            }
        });
        return this;
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** {@code http://127.0.0.1:<port><path>}. */
    String url(String path) {
        return "http://127.0.0.1:" + port() + path;
    }

    static void send(HttpExchange exchange, int status, String body, String... headers) throws IOException {
        for (var i = 0; i + 1 < headers.length; i += 2) {
            exchange.getResponseHeaders().add(headers[i], headers[i + 1]);
        }
        var bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            exchange.getResponseBody().write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
