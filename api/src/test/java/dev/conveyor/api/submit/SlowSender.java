package dev.conveyor.api.submit;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** A client that starts a large batch over a raw socket and then sends little or nothing of the rest. */
final class SlowSender {

    private SlowSender() {
    }

    /**
     * Opens a connection to the api on {@code port} that announces a batch of {@code announced} bytes and sends its
     * first kilobyte only: jobs of type {@code type}.
     */
    static Socket open(int port, int announced, String type) throws IOException {
        var socket = new Socket("localhost", port);
        socket.setSoTimeout((int) Duration.ofSeconds(30).toMillis());
        var head = "POST /v1/jobs/batch HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + announced + "\r\n\r\n";
        var start = new StringBuilder("{\"jobs\":[");
        while (start.length() < 1024) {
            start.append("{\"type\":\"").append(type).append("\",\"payload\":{}},");
        }
        var out = socket.getOutputStream();
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.write(start.toString().getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return socket;
    }
}
