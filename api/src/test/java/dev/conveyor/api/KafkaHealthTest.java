package dev.conveyor.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.boot.health.contributor.Status;

class KafkaHealthTest {

    /**
     * The readiness probe is open to anyone: while Kafka is away each call of it logged a WARN with a stack trace of
     * some 80 lines, however often it was called. The outage is logged where it stops work (the dispatcher, the
     * clients).
     */
    @Test
    void kafkaAwayIsDownWithoutALogLine() {
        var logger = (Logger) LoggerFactory.getLogger(KafkaHealth.class);
        var lines = new ListAppender<ILoggingEvent>();
        lines.start();
        logger.addAppender(lines);
        try (var admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1"))) {
            var health = new KafkaHealth(admin);
            for (var i = 0; i < 2; i++) {
                assertThat(health.health().getStatus()).isEqualTo(Status.DOWN);
            }
        } finally {
            logger.detachAppender(lines);
        }
        assertThat(lines.list).filteredOn(line -> line.getLevel().isGreaterOrEqual(Level.WARN)).isEmpty();
    }
}
