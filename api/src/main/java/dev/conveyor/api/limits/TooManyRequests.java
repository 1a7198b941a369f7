package dev.conveyor.api.limits;

import dev.conveyor.api.web.ApiException;
import java.util.List;
import org.springframework.http.HttpStatus;

/** A request over one of the limits: a 429 problem telling the client when to try again. */
public class TooManyRequests extends ApiException {

    private final long retryAfterSeconds;
    private final boolean closeConnection;

    public TooManyRequests(String problemType, String title, String detail, long retryAfterSeconds) {
        this(problemType, title, detail, retryAfterSeconds, false);
    }

    /** {@code closeConnection}: answer with {@code Connection: close}, giving the web server its connection back. */
    public TooManyRequests(String problemType, String title, String detail, long retryAfterSeconds,
            boolean closeConnection) {
        super(HttpStatus.TOO_MANY_REQUESTS, problemType, title, detail, List.of());
        this.retryAfterSeconds = Math.max(1, retryAfterSeconds);
        this.closeConnection = closeConnection;
    }

    public boolean closeConnection() {
        return closeConnection;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
