package dev.conveyor.api.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
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
}
