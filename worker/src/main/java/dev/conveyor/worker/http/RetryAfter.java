package dev.conveyor.worker.http;

import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Reads a {@code Retry-After} header: delay-seconds or an HTTP date (RFC 9110, section 10.2.3). A server may send
 * anything here, so the wait is capped at {@link #MAX} and whatever cannot be read is ignored.
 */
final class RetryAfter {

    /** The longest wait a server can ask for; longer asks (10,000 years, say) wait this long. */
    /**
     * Far beyond any wait the api honours ({@code conveyor.api.retry.max-retry-after}, which decides): this bound only
     * keeps absurd numbers and dates in range, so that the api sees how absurd the ask was.
     */
    static final Duration MAX = Duration.ofDays(36_500);

    // ASCII digits only: Long.parseLong would also take "+5" and digits of other scripts.
    private static final Pattern SECONDS = Pattern.compile("[0-9]+");

    private RetryAfter() {
    }

    /** The wait the server asked for, at most {@link #MAX}; empty when absent, unreadable, negative or past. */
    static Optional<Duration> parse(Optional<String> header, Clock clock) {
        if (header.isEmpty()) {
            return Optional.empty();
        }
        var value = header.get().strip();
        if (SECONDS.matcher(value).matches()) {
            // More digits than a long holds is still a (very long) wait.
            var seconds = value.length() > 18 ? Long.MAX_VALUE : Long.parseLong(value);
            return Optional.of(seconds > MAX.toSeconds() ? MAX : Duration.ofSeconds(seconds));
        }
        try {
            var wait = Duration.between(clock.instant(),
                    ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
            return wait.isNegative() ? Optional.empty() : Optional.of(wait.compareTo(MAX) > 0 ? MAX : wait);
        } catch (DateTimeParseException | ArithmeticException unreadable) {
            return Optional.empty();
        }
    }
}
