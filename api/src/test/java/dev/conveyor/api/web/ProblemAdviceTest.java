package dev.conveyor.api.web;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;

class ProblemAdviceTest {

    /** A refusal for want of room (request bodies' memory, say) tells the client when to come back. */
    @Test
    void a503RefusalCarriesRetryAfter() {
        var answer = new ProblemAdvice().refused(new ApiException(HttpStatus.SERVICE_UNAVAILABLE, "busy", "Busy",
                "Try again.", List.of()));

        assertThat(answer.getStatusCode()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
        assertThat(answer.getHeaders().getFirst(HttpHeaders.RETRY_AFTER)).isEqualTo("1");
        assertThat(answer.getBody().getType().toString()).endsWith("/busy");
    }

    @Test
    void otherRefusalsDoNot() {
        var answer = new ProblemAdvice().refused(ApiException.invalid("type", "is required"));

        assertThat(answer.getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(answer.getHeaders().containsHeader(HttpHeaders.RETRY_AFTER)).isFalse();
    }

    /** A store that is away fails every request: one line per ten seconds, counting the requests in between. */
    @Test
    void requestsTheStoreFailsAreLoggedOncePerIntervalWithTheirCount() {
        var now = new AtomicLong(1_000_000_000L);
        var advice = new ProblemAdvice(now::get);
        var logged = new ListAppender<ILoggingEvent>();
        var logger = (Logger) LoggerFactory.getLogger(ProblemAdvice.class);
        logger.addAppender(logged);
        logged.start();
        try {
            var answer = advice.storeUnavailable(new CannotGetJdbcConnectionException("refused"));
            for (var i = 0; i < 3; i++) {
                now.addAndGet(ProblemAdvice.STORE_LOG_EVERY.toNanos() / 4);
                advice.storeUnavailable(new CannotGetJdbcConnectionException("refused"));
            }
            now.addAndGet(ProblemAdvice.STORE_LOG_EVERY.toNanos() / 4);
            advice.storeUnavailable(new CannotGetJdbcConnectionException("still refused"));

            assertThat(answer.getStatusCode()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
        } finally {
            logger.detachAppender(logged);
        }
        assertThat(logged.list).extracting(ILoggingEvent::getLevel).containsOnly(Level.WARN);
        assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly(
                "Job store unavailable: refused",
                "Job store unavailable: still refused (and 3 more like it since the last such line)");
    }
}
