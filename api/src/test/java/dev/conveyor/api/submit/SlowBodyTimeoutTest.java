package dev.conveyor.api.submit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

/**
 * Bodies that take longer than {@code body-timeout} (2 s here), over real sockets against the running api: a client
 * announcing a body that takes all the memory of large bodies (12 MiB of the 16) and sending a byte now and then, or
 * nothing, holds it only until its time is up; then its request is refused (a 400 naming {@code body}, or Tomcat's 408
 * for a read that waited the whole time), and other large submissions, which waited for that memory, go through.
 */
@ApiTest
@TestPropertySource(properties = {"conveyor.api.body-memory-bytes=16777216", "conveyor.api.body-timeout=2s"})
class SlowBodyTimeoutTest {

    private static final int MIB = 1024 * 1024;
    /** Twice it is the 12 MiB that large bodies share. */
    private static final int ANNOUNCED = 6 * MIB;

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
    }

    @LocalServerPort
    int port;
    @Autowired
    BodyMemory memory;
    @Autowired
    JdbcClient jdbc;

    private final List<Socket> senders = new ArrayList<>();
    private final ScheduledExecutorService trickles = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void hangUp() throws Exception {
        for (var sender : senders) {
            sender.close();
        }
        trickles.shutdownNow();
        assertThat(trickles.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    /** Opens a connection that announces a batch of {@link #ANNOUNCED} bytes and sends its first kilobyte only. */
    private Socket slowSender() throws IOException {
        var socket = SlowSender.open(port, ANNOUNCED, "slow-timeout");
        senders.add(socket);
        return socket;
    }

    /** Sends a space every 200 ms on {@code socket} (the slow client's pace), until it can no longer. */
    private void trickle(Socket socket) {
        trickles.scheduleAtFixedRate(() -> {
            try {
                var out = socket.getOutputStream();
                out.write(' ');
                out.flush();
            } catch (IOException e) {
                // the api answered and closed, or the test ended: an exception ends the schedule
                throw new UncheckedIOException(e);
            }
        }, 0, 200, TimeUnit.MILLISECONDS);
    }

    /** What the api answered on {@code socket}: all it sent until it closed or stopped sending for 5 s. */
    private static String answer(Socket socket) throws IOException {
        socket.setSoTimeout((int) Duration.ofSeconds(5).toMillis());
        InputStream in = socket.getInputStream();
        var answer = new ByteArrayOutputStream();
        var buffer = new byte[4096];
        try {
            for (int read; (read = in.read(buffer)) != -1; ) {
                answer.write(buffer, 0, read);
            }
        } catch (SocketTimeoutException | SocketException e) {
            // kept open (Tomcat swallows what follows), or reset: what came is the answer
        }
        return answer.toString(StandardCharsets.UTF_8);
    }

    /** A single submission larger than the small bodies' part, so that it needs the large bodies' memory. */
    private static String largeSubmission() {
        return "{\"type\": \"large-ok\", \"payload\": {\"text\": \"" + "x".repeat(100_000) + "\"}}";
    }

    @Test
    void aTricklingBodyIsRefusedOnceItsTimeIsUpAndOthersGetItsMemory() throws Exception {
        var trickler = slowSender();
        trickle(trickler);
        await().atMost(Duration.ofSeconds(10)).until(() -> memory.reservedBytes() >= 2L * ANNOUNCED);

        // waits for the memory (up to 5 s), which the trickling body gives back after its 2 s
        var large = ApiTests.client(port).post("/v1/jobs", largeSubmission());
        assertThat(large.status()).as("%s", large.text()).isEqualTo(202);

        var answer = answer(trickler);
        assertThat(answer).startsWith("HTTP/1.1 400").containsIgnoringCase("Content-Type: application/problem+json")
                .contains("\"field\":\"body\"", "did not arrive in time", "conveyor.api.body-timeout");
        await().atMost(Duration.ofSeconds(5)).until(() -> memory.reservedBytes() == 0);
        assertThat(jdbc.sql("SELECT count(*) FROM jobs WHERE type = 'slow-timeout'").query(Long.class).single())
                .isZero();
    }

    /**
     * A client that stops sending is waited for no longer than the body's time (not Tomcat's 60 s connection timeout),
     * and answered as Tomcat answers a read that timed out: 408.
     */
    @Test
    void aSilentBodyGivesItsMemoryBackOnceItsTimeIsUp() throws Exception {
        var silent = slowSender();
        await().atMost(Duration.ofSeconds(10)).until(() -> memory.reservedBytes() >= 2L * ANNOUNCED);

        var large = ApiTests.client(port).post("/v1/jobs", largeSubmission());
        assertThat(large.status()).as("%s", large.text()).isEqualTo(202);

        await().atMost(Duration.ofSeconds(5)).until(() -> memory.reservedBytes() == 0);
        assertThat(answer(silent)).startsWith("HTTP/1.1 408")
                .containsIgnoringCase("Content-Type: application/problem+json");
    }
}
