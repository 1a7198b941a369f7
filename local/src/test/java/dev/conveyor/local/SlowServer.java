package dev.conveyor.local;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.Executors;

/** For the benchmark, in a JVM of its own: answers every request after {@code delay}, thousands at once. */
final class SlowServer {

    public static void main(String[] args) throws Exception {
        var port = Integer.parseInt(args[0]);
        var delay = Duration.ofMillis(Long.parseLong(args[1]));
        var server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16_384);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", exchange -> {
            try (exchange) {
                Thread.sleep(delay); // the slow service being simulated
                var body = "{\"ok\": true}".getBytes();
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        server.start();
        System.out.println("listening on " + port);
    }
}
