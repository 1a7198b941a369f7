package dev.conveyor.api.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy on 127.0.0.1 in front of a server, which can make the connections open through it go silent for good
 * while they stay open on the client's side: what a client sees of a database whose host vanished, with a new one
 * answering new connections (a failover; the server's side is closed, the old host's sessions gone with their
 * locks), or of a network partition (the server's side stays open too). Bytes sent on a silent connection are taken
 * and dropped.
 */
final class SilencingProxy implements AutoCloseable {

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();

    SilencingProxy(String host, int port) {
        target = new InetSocketAddress(host, port);
        try {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread.ofVirtual().name("silencing-proxy").start(this::accept);
    }

    int port() {
        return server.getLocalPort();
    }

    /** Every connection open now forwards nothing more, either way, and stays open; new ones are forwarded. */
    void silenceOpenConnections() {
        links.forEach(Link::silence);
    }

    /**
     * Every connection open now forwards nothing more, either way, and both sides stay open: a network partition
     * between a client and a server that both live on, neither hearing the other close.
     */
    void partitionOpenConnections() {
        links.forEach(link -> link.silent = true);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                var client = server.accept();
                var upstream = new Socket();
                upstream.connect(target, 5_000);
                var link = new Link(client, upstream);
                links.add(link);
                Thread.ofVirtual().start(() -> link.pump(client, upstream));
                Thread.ofVirtual().start(() -> link.pump(upstream, client));
            } catch (IOException e) {
                // closed, or the server refused one connection: the next accept tells which
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (var link : links) {
            link.close();
        }
    }

    private static final class Link {

        private final Socket client;
        private final Socket upstream;
        volatile boolean silent;

        Link(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        void pump(Socket from, Socket to) {
            var buffer = new byte[16384];
            // the streams are not closed here: closing one closes its socket, and a silenced link's client side
            // stays open
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int read;
                while ((read = in.read(buffer)) >= 0) {
                    if (!silent) {
                        out.write(buffer, 0, read);
                        out.flush();
                    }
                }
            } catch (IOException e) {
                // one side closed
            } finally {
                if (!silent) {
                    close();
                }
            }
        }

        void silence() {
            silent = true;
            try {
                upstream.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }

        void close() {
            try {
                client.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            try {
                upstream.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}
