package dev.conveyor.worker.http;

import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.worker.Deadlines;
import dev.conveyor.worker.HttpSettings;
import dev.conveyor.worker.Secrets;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.DefaultHttpRequestRetryStrategy;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ConnectionClosedException;
import org.apache.hc.core5.http.MessageConstraintException;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.pool.PoolConcurrencyPolicy;
import org.apache.hc.core5.pool.PoolReusePolicy;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * One request and its capped response, within the call's time budget (the wait for a connection, the headers and the
 * body together), sent by Apache HttpClient's blocking client on the job's own virtual thread: no hand-off to another
 * thread on the way, and a job that is cancelled or timed out is interrupted out of any wait. Connections are pooled
 * per origin (scheme, host and port), at most {@code max-connections-per-host} of them, kept alive between jobs;
 * requests over the limit wait their turn in {@link HostLimits}. Every connection is opened to addresses that the
 * {@link AddressGuard} answered. Network failures become retryable failures that say what went wrong.
 */
final class HttpExchange implements AutoCloseable {

    private static final Pattern CHARSET = Pattern.compile("(?i)charset=\"?([^\";\\s]+)");
    private static final int CHUNK = 8_192;
    // A pooled connection idle this long is checked before reuse (a cheap read that finds one the server closed).
    private static final TimeValue VALIDATE_AFTER = TimeValue.ofSeconds(2);
    private static final TimeValue EVICT_IDLE = TimeValue.ofSeconds(30);
    /**
     * What a response's head may hold: the status line and each header line at most this long, fewer header lines
     * than this (Apache's own defaults, named here because the failure's message quotes them). A server that sends
     * more, or headers without end, fails its job at once, having cost the worker at most about 800 KB.
     */
    static final int MAX_HEADER_LINE = 8_192;
    static final int MAX_HEADERS = 100;

    /** A response: its status, its headers (names in lower case, in order), and its body up to the cap. */
    record Response(int status, Map<String, List<String>> headers, byte[] body, boolean tooLarge) {

        Optional<String> header(String name) {
            var values = headers.get(name);
            return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.getFirst());
        }
    }

    private final int maxBytes;
    private final HostLimits hosts;
    private final PoolingHttpClientConnectionManager connections;
    private final CloseableHttpClient client;

    HttpExchange(HttpSettings settings, DnsResolver guard) {
        this.maxBytes = settings.maxResponseBytes();
        this.hosts = new HostLimits(settings.maxConnectionsPerHost());
        this.connections = PoolingHttpClientConnectionManagerBuilder.create()
                .setDnsResolver(guard)
                .setConnectionFactory(new ExactConnections(Http1Config.custom().setMaxLineLength(MAX_HEADER_LINE)
                        .setMaxHeaderCount(MAX_HEADERS).build(), VALIDATE_AFTER))
                .setPoolConcurrencyPolicy(PoolConcurrencyPolicy.STRICT)
                .setConnPoolPolicy(PoolReusePolicy.LIFO)
                .setMaxConnPerRoute(settings.maxConnectionsPerHost())
                .setMaxConnTotal(Integer.MAX_VALUE)
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.of(settings.connectTimeout()))
                        // every reuse is checked for bytes nobody asked for (ExactConnections), cheaply; the
                        // check for a closed connection waits until it was idle VALIDATE_AFTER
                        .setValidateAfterInactivity(TimeValue.ZERO_MILLISECONDS)
                        .build())
                .build();
        this.client = HttpClients.custom()
                .setConnectionManager(connections)
                // Redirects are the handler's, so that each hop is checked; no cookies, no authentication state, no
                // proxy: every job's request stands alone.
                .disableRedirectHandling()
                .disableCookieManagement()
                .disableAuthCaching()
                .disableContentCompression()
                .setRetryStrategy(new StaleConnectionRetry())
                .setUserAgent("conveyor-worker")
                .evictIdleConnections(EVICT_IDLE)
                .build();
    }

    HostLimits hostLimits() {
        return hosts;
    }

    /** Connections open now, in use or idle in the pool. */
    int openConnections() {
        var stats = connections.getTotalStats();
        return stats.getLeased() + stats.getAvailable();
    }

    /**
     * Sends {@code call} once a connection to its origin is free (at most {@code max-connections-per-host} requests to
     * one origin at once); {@code deadline} ({@link System#nanoTime()}) bounds the wait, the exchange and every hop of
     * one job together.
     */
    Response send(HttpCall call, long deadline) throws InterruptedException {
        if (deadline - System.nanoTime() <= 0) {
            throw timedOut(call);
        }
        HostLimits.Permit permit;
        try {
            permit = hosts.acquire(call.uri(), deadline);
        } catch (TimeoutException e) {
            throw retryable(call.method() + " " + call.shownUri() + " had no complete response within "
                    + call.timeout().toMillis() + " ms (payload.timeoutMs): it waited all that time for one of the "
                    + hosts.limit() + " connections to " + HostLimits.key(call.uri())
                    + " (conveyor.worker.http.max-connections-per-host)", null);
        }
        // The pool holds as many connections per origin as there are permits: with a permit, one is free or opened.
        try (permit) {
            var left = deadline - System.nanoTime();
            if (left <= 0) {
                throw timedOut(call);
            }
            return exchange(call, left);
        }
    }

    private Response exchange(HttpCall call, long left) throws InterruptedException {
        var request = request(call, left);
        // Ends an exchange whose deadline passes while it reads a slow body (a socket timeout alone is per read).
        var late = Deadlines.afterNanos(left, request::cancel);
        ClassicHttpResponse response = null;
        try {
            response = client.executeOpen(null, request, null);
            return read(request, response);
        } catch (IOException | RuntimeException e) {
            if (Thread.interrupted()) {
                request.cancel();
                throw new InterruptedException("the job was stopped during " + call.method() + " " + call.shownUri());
            }
            // Cancelled means the deadline passed (the cap's cancel in read() ends no exchange in failure); the flag
            // is set before the cancel takes effect, unlike the timer task's own completion.
            if (request.isCancelled() || e instanceof SocketTimeoutException) {
                throw timedOut(call);
            }
            throw failed(call, e);
        } finally {
            late.cancel(false);
            if (response != null) {
                try {
                    // After the whole body this returns the connection to the pool; after a cancel it is gone.
                    response.close();
                } catch (IOException closedAlready) {
                    // The exchange has its outcome; a connection that fails to close is dropped by the pool.
                }
            }
        }
    }

    private HttpUriRequestBase request(HttpCall call, long nanos) {
        var request = new HttpUriRequestBase(call.method(), call.uri());
        call.headers().forEach(request::addHeader);
        if (call.body() != null) {
            // UTF-8, with no Content-Type of the client's own: the payload's headers say what the body is.
            request.setEntity(new ByteArrayEntity(call.body().getBytes(StandardCharsets.UTF_8), null));
        }
        var budget = Timeout.of(nanos, TimeUnit.NANOSECONDS);
        request.setConfig(RequestConfig.custom()
                .setConnectionRequestTimeout(budget)
                .setResponseTimeout(budget)
                .setProtocolUpgradeEnabled(false)
                .build());
        return request;
    }

    /**
     * Reads the body up to the cap. A body known or found to be larger is not read on: the request is cancelled, which
     * closes its connection at once (closing the stream instead would read the rest, however long).
     */
    private Response read(HttpUriRequestBase request, ClassicHttpResponse response) throws IOException {
        var headers = new LinkedHashMap<String, List<String>>();
        for (var header : response.getHeaders()) {
            headers.computeIfAbsent(header.getName().toLowerCase(Locale.ROOT), name -> new ArrayList<>(1))
                    .add(header.getValue());
        }
        var entity = response.getEntity();
        if (entity == null) {
            return new Response(response.getCode(), headers, new byte[0], false);
        }
        var length = entity.getContentLength();
        if (length > maxBytes) {
            request.cancel();
            return new Response(response.getCode(), headers, new byte[0], true);
        }
        var in = entity.getContent();
        // A known length is read into an array of its size: readNBytes(n) starts with min(n, 16 KiB) bytes, which for
        // the cap was 16 KiB for every response, a third of what an http job allocated in the worker
        var body = in.readNBytes(length >= 0 ? (int) length : maxBytes);
        if (in.read() != -1) {
            request.cancel();
            return new Response(response.getCode(), headers, body, true);
        }
        return new Response(response.getCode(), headers, body, false);
    }

    private JobFailure failed(HttpCall call, Exception cause) {
        var where = call.method() + " " + call.shownUri();
        return switch (cause) {
            case AddressGuard.Refused refused -> JobFailure.notRetryable("refused: " + refused.getMessage());
            case UnknownHostException unknown -> new JobFailure("HANDLER_ERROR",
                    "cannot resolve host '" + call.uri().getHost() + "'", true, null, unknown);
            case ConnectTimeoutException t -> retryable("could not connect for " + where + " in time", t);
            case ConnectException c -> retryable("could not connect for " + where + ": " + reason(call, c), c);
            // Not retried: a server that answers so is most likely to answer the same again.
            case MessageConstraintException large -> new JobFailure("RESULT_TOO_LARGE", "the response head of "
                    + where + " is larger than the worker reads (" + reason(call, large) + "; it reads fewer than "
                    + MAX_HEADERS + " header lines, each of at most " + MAX_HEADER_LINE + " characters)", false, null,
                    large);
            case IOException io -> retryable(where + " failed: " + reason(call, io), io);
            case IllegalArgumentException bad -> JobFailure.notRetryable(where + " cannot be sent: "
                    + reason(call, bad));
            default -> retryable(where + " failed: " + reason(call, cause), cause);
        };
    }

    private static JobFailure timedOut(HttpCall call) {
        return retryable(call.method() + " " + call.shownUri() + " had no complete response within "
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
    static Charset charset(Optional<String> contentType) {
        var matcher = CHARSET.matcher(contentType.orElse(""));
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
     * characters or halves of surrogate pairs, which JSON can escape but PostgreSQL's jsonb and text refuse. Some
     * decoders yield such halves from bytes they take as valid (the JDK's UTF-32 from {@code 00 00 D8 00}).
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
        return storable(text) ? text : null;
    }

    private static boolean storable(String text) {
        for (var i = 0; i < text.length(); i++) {
            var c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (c == '\u0000' || Character.isSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        client.close(CloseMode.IMMEDIATE);
    }

    /**
     * Sends an idempotent request once more on a fresh connection when a pooled one turns out closed by the server
     * before it answered (the usual race of keep-alive); no retry on any status (the job's own retries and the
     * server's {@code Retry-After} handle those), nor after a timeout, a refused lookup or a failed connect.
     */
    private static final class StaleConnectionRetry extends DefaultHttpRequestRetryStrategy {
        StaleConnectionRetry() {
            super(1, TimeValue.ZERO_MILLISECONDS, List.of(InterruptedIOException.class, UnknownHostException.class,
                    ConnectException.class, ConnectionClosedException.class, NoRouteToHostException.class,
                    SSLException.class), List.of());
        }
    }
}
