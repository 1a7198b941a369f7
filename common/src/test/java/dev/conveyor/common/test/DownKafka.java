package dev.conveyor.common.test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * An admin client of a Kafka that is down (nothing listens on its port), with Kafka's defaults: a call made without a
 * timeout of its own waits for an answer for {@code default.api.timeout.ms}, a minute, whoever still waits for it.
 */
public final class DownKafka {

    /** Longer than any call given up in a test should be held, shorter than Kafka's minute. */
    public static final Duration CLOSE_PATIENCE = Duration.ofSeconds(30);

    private DownKafka() {
    }

    /** An admin client of a port that nothing listens on. */
    public static Admin admin() {
        int port;
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + port));
    }

    /**
     * How long {@code admin} takes to close, given {@link #CLOSE_PATIENCE}: its close waits for the calls it still
     * holds, so a close at once says that no call outlived the wait of whoever made it.
     */
    public static Duration closing(Admin admin) {
        var start = System.nanoTime();
        admin.close(CLOSE_PATIENCE);
        return Duration.ofNanos(System.nanoTime() - start);
    }
}
