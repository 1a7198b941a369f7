package dev.conveyor.api.submit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.test.HttpJson;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

/**
 * Large bodies sent slowly, over real sockets against the running api: they hold no more than the api's body memory
 * (16 MiB here, 12 of it for large bodies), those that find none are refused with a 503 while they are still being
 * sent, single submissions go through meanwhile, and everything held is given back when the sender goes away.
 */
@ApiTest
@TestPropertySource(properties = "conveyor.api.body-memory-bytes=16777216")
class SlowBodiesTest {

    private static final int MIB = 1024 * 1024;
    /** Announced by each slow sender: twice it is 8 MiB of the 12 that large bodies share, so one fits at a time. */
    private static final int ANNOUNCED = 4 * MIB;

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

    @AfterEach
    void hangUp() throws IOException {
        for (var sender : senders) {
            sender.close();
        }
    }

    /** Opens a connection that announces a batch of {@link #ANNOUNCED} bytes and sends its first kilobyte only. */
    private Socket slowSender() throws IOException {
        var socket = SlowSender.open(port, ANNOUNCED, "slow-attack");
        senders.add(socket);
        return socket;
    }

    /** The status line and headers of the answer on {@code socket}, read up to the blank line. */
    private static String answerHead(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        var head = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            head.append((char) c);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                break;
            }
        }
        return head.toString();
    }

    @Test
    void slowLargeBodiesHoldNoMoreThanTheBodyMemoryAndSmallSubmissionsGoThrough() throws Exception {
        var holder = slowSender();
        await().atMost(Duration.ofSeconds(10)).until(() -> memory.reservedBytes() >= 2L * ANNOUNCED);
        var refused = List.of(slowSender(), slowSender());
        await().atMost(Duration.ofSeconds(10)).until(memory::hasWaiting);

        // While the large bodies hold or wait, single submissions reserve from their own part
        HttpJson http = ApiTests.client(port);
        for (var i = 0; i < 20; i++) {
            var answer = http.post("/v1/jobs", "{\"type\": \"small-ok\", \"payload\": {\"i\": " + i + "}}");
            assertThat(answer.status()).as("%s", answer.text()).isEqualTo(202);
        }

        // The two that found no memory are refused within the wait, before they have sent their bodies
        for (var sender : refused) {
            var head = answerHead(sender);
            assertThat(head).startsWith("HTTP/1.1 503").containsIgnoringCase("Retry-After: 1")
                    .containsIgnoringCase("Content-Type: application/problem+json");
        }
        // Refused and answered bodies hold nothing; the one still being sent holds twice its announced size
        await().atMost(Duration.ofSeconds(5)).until(() -> memory.reservedBytes() == 2L * ANNOUNCED);

        // The one holding memory goes away mid-body: all of it is given back
        holder.close();
        await().atMost(Duration.ofSeconds(30)).until(() -> memory.reservedBytes() == 0);
        assertThat(jdbc.sql("SELECT count(*) FROM jobs WHERE type = 'slow-attack'").query(Long.class).single())
                .isZero();
        assertThat(jdbc.sql("SELECT count(*) FROM jobs WHERE type = 'small-ok'").query(Long.class).single())
                .isEqualTo(20);
    }
}
