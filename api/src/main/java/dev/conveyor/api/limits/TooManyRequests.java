package dev.conveyor.api.limits;

import dev.conveyor.api.web.ApiException;
import java.util.List;
import org.springframework.http.HttpStatus;

/** A request over one of the limits: a 429 problem telling the client when to try again. */
public class TooManyRequests extends ApiException {

    private final long retryAfterSeconds;

    public TooManyRequests(String problemType, String title, String detail, long retryAfterSeconds) {
        super(HttpStatus.TOO_MANY_REQUESTS, problemType, title, detail, List.of());
        this.retryAfterSeconds = Math.max(1, retryAfterSeconds);
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
