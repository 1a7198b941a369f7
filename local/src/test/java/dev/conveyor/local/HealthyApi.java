package dev.conveyor.local;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;

/** An api for the tests of {@code local} itself: answers 200 to every request on its {@code --server.port}. */
final class HealthyApi {

    private HealthyApi() {
    }

    public static void main(String[] args) throws Exception {
        var port = 0;
        for (var arg : args) {
            if (arg.startsWith("--server.port=")) {
                port = Integer.parseInt(arg.substring("--server.port=".length()));
            }
        }
        var server = HttpServer.create(new InetSocketAddress(port), 0);
        server.createContext("/", exchange -> {
            try (exchange) {
                exchange.sendResponseHeaders(200, -1);
            }
        });
        server.start();
        System.out.println("api answering on " + port);
    }
}
