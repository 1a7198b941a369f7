package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReadinessTest {

    @TempDir
    Path dir;

    @Test
    void waitsUntilTheHealthEndpointAnswers200() throws Exception {
        var calls = new AtomicInteger();
        var server = HttpServer.create(new InetSocketAddress("localhost", 0), 0);
        server.createContext("/actuator/health", exchange -> {
            exchange.sendResponseHeaders(calls.incrementAndGet() < 3 ? 503 : 200, -1);
            exchange.close();
        });
        server.start();
        try {
            var uri = URI.create("http://localhost:" + server.getAddress().getPort() + "/actuator/health");

            Readiness.await("the api", Duration.ofSeconds(20), List.of(), Readiness.httpOk(uri));

            assertThat(calls).hasValue(3);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void failsAtOnceWhenAWatchedProcessDiesAndShowsItsLog() {
        var child = ChildProcess.start("api", ChildProcessTest.command("exit", "7"), dir.resolve("api.log"));

        assertThatThrownBy(() -> Readiness.await("the api", Duration.ofSeconds(60), List.of(child), () -> false))
                .isInstanceOf(Readiness.NotReadyException.class)
                .hasMessageContaining("api (pid " + child.pid() + ") exited with code 7 before the api was ready")
                .hasMessageContaining("child started: exit 7");
    }

    @Test
    void failsAfterTheTimeoutNamingTheLastProblem() {
        assertThatThrownBy(() -> Readiness.await("the broker", Duration.ofMillis(300), List.of(), () -> {
            throw new IllegalStateException("connection refused");
        })).hasMessageStartingWith("the broker was not ready after 0 s").hasMessageContaining("connection refused");
    }
}
