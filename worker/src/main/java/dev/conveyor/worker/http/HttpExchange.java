package dev.conveyor.worker.http;

import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.worker.Secrets;
import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * One request and its capped response, within the call's time budget (headers and body together). Network
 * failures become retryable failures that say what went wrong.
 */
final class HttpExchange implements AutoCloseable {

    private static final Pattern CHARSET = Pattern.compile("(?i)charset=\"?([^\";\\s]+)");

    private final HttpClient client;
    private final int maxBytes;
    private final HostLimits hosts;

    HttpExchange(HttpClient client, int maxBytes, HostLimits hosts) {
        this.client = client;
        this.maxBytes = maxBytes;
        this.hosts = hosts;
    }

    HostLimits hostLimits() {
        return hosts;
    }

    /**
     * Sends {@code call} once a connection to its host is free (at most {@code max-connections-per-host} requests to
     * one host at once); {@code deadline} ({@link System#nanoTime()}) bounds the wait and every hop of one job together.
     */
    HttpResponse<CappedBody.Body> send(HttpCall call, long deadline) throws InterruptedException {
        var budget = Duration.ofNanos(deadline - System.nanoTime());
        if (!budget.isPositive()) {
            throw timedOut(call);
        }
        // Built first, so that bad headers fail at once; a wait for a connection below counts against the same
        // deadline, which the bounded get enforces whatever the request's own timeout says.
        var request = request(call, budget);
        HostLimits.Permit permit;
        try {
            permit = hosts.acquire(call.uri(), deadline);
        } catch (TimeoutException e) {
            throw retryable(call.method() + " " + call.uri() + " had no complete response within "
                    + call.timeout().toMillis() + " ms (payload.timeoutMs): it waited all that time for one of the "
                    + hosts.limit() + " connections to " + HostLimits.key(call.uri())
                    + " (conveyor.worker.http.max-connections-per-host)", null);
        }
        try (permit) {
            var left = Duration.ofNanos(deadline - System.nanoTime());
            if (!left.isPositive()) {
                throw timedOut(call);
            }
            // sendAsync and a bounded get: the request timeout alone does not cover reading the body.
            var future = client.sendAsync(request, CappedBody.handler(maxBytes));
            try {
                return future.get(left.toNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                future.cancel(true);
                throw e;
            } catch (TimeoutException e) {
                future.cancel(true);
                throw timedOut(call);
            } catch (ExecutionException e) {
                throw failed(call, e.getCause());
            }
        }
    }

    private static HttpRequest request(HttpCall call, Duration timeout) {
        var builder = HttpRequest.newBuilder(call.uri()).timeout(timeout).method(call.method(),
                call.body() == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(call.body()));
        call.headers().forEach((name, value) -> {
            try {
                builder.header(name, value);
            } catch (IllegalArgumentException e) {
                // The JDK's message quotes the value, which may be a credential: name the header only.
                throw JobFailure.notRetryable("payload.headers." + name + " is not a valid header: its name must be a "
                        + "token and its value must hold no line breaks or other control characters");
            }
        });
        return builder.build();
    }

    private static JobFailure failed(HttpCall call, Throwable cause) {
        var where = call.method() + " " + call.uri();
        return switch (cause) {
            case HttpConnectTimeoutException t -> retryable("could not connect for " + where + " in time", t);
            case HttpTimeoutException t -> timedOut(call);
            case ConnectException c -> retryable("could not connect for " + where + ": " + reason(call, c), c);
            case IOException io -> retryable(where + " failed: " + reason(call, io), io);
            case IllegalArgumentException bad -> JobFailure.notRetryable(where + " cannot be sent: "
                    + reason(call, bad));
            default -> retryable(where + " failed: " + reason(call, cause), cause);
        };
    }

    private static JobFailure timedOut(HttpCall call) {
        return retryable(call.method() + " " + call.uri() + " had no complete response within "
                + call.timeout().toMillis() + " ms (payload.timeoutMs)", null);
    }

    private static JobFailure retryable(String message, Throwable cause) {
        return new JobFailure("HANDLER_ERROR", message, true, null, cause);
    }

    private static String reason(HttpCall call, Throwable error) {
        return error.getMessage() == null ? error.getClass().getSimpleName()
                : Secrets.hide(error.getMessage(), call.secrets());
    }

    /** The charset named in Content-Type, else UTF-8 (the default for JSON and most text today). */
    static Charset charset(HttpHeaders headers) {
        var matcher = CHARSET.matcher(headers.firstValue("content-type").orElse(""));
        if (matcher.find()) {
            try {
                return Charset.forName(matcher.group(1));
            } catch (IllegalArgumentException unknown) {
                return StandardCharsets.UTF_8;
            }
        }
        return StandardCharsets.UTF_8;
    }

    /**
     * The body as text in {@code charset}; null when it is not text there (bytes that do not decode) or holds NUL
     * characters, which JSON can escape but PostgreSQL's jsonb and text refuse.
     */
    static String text(byte[] body, Charset charset) {
        String text;
        try {
            text = charset.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException notText) {
            return null;
        }
        return text.indexOf('\u0000') >= 0 ? null : text;
    }

    @Override
    public void close() {
        client.close();
    }
}
