package dev.conveyor.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The readiness probe, which anyone may call, checks the database on a connection of its own: it borrowed a connection
 * of the api's pool, so that a pool busy with requests held the probe up to the pool's 5 s wait (Kubernetes gives it
 * 1 s) and took a busy api out of its Service, and a flood of probes took connections from the requests.
 */
@ApiTest
@DirtiesContext
class BusyPoolReadinessTest {

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
    }

    @LocalServerPort
    int port;
    @Autowired
    HikariDataSource pool;

    @Test
    void readinessAnswersAtOnceWhileEveryConnectionOfThePoolIsBusy() throws SQLException {
        var http = ApiTests.client(port);
        assertThat(http.get("/actuator/health/readiness").status()).isEqualTo(200);
        var held = new ArrayList<Connection>();
        var patience = pool.getHikariConfigMXBean().getConnectionTimeout();
        try {
            pool.getHikariConfigMXBean().setConnectionTimeout(250);
            try {
                while (held.size() < 100) {
                    held.add(pool.getConnection());
                }
            } catch (SQLException e) {
                // every connection is busy
            }
            pool.getHikariConfigMXBean().setConnectionTimeout(patience);

            for (var i = 0; i < 3; i++) {
                var start = System.nanoTime();
                var answer = http.get("/actuator/health/readiness");
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
                assertThat(answer.status()).isEqualTo(200);
            }
        } finally {
            pool.getHikariConfigMXBean().setConnectionTimeout(patience);
            for (var connection : held) {
                connection.close();
            }
        }
    }
}
