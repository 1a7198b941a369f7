package dev.conveyor.local.bench;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;

/** The benchmark's own HTTP servers: the JDK's, on 127.0.0.1 and a free port, one virtual thread per request. */
final class LoopbackHttp {

    private LoopbackHttp() {
    }

    /** A server not yet started; {@code what} names it in the error when it cannot be made. */
    static HttpServer server(String what) {
        // Read when the server class is first used: the JDK server otherwise keeps only 200 idle connections open
        // and closes the rest under a client that reuses them.
        System.setProperty("sun.net.httpserver.maxIdleConnections", "20000");
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + what, e);
        }
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        return server;
    }
}
