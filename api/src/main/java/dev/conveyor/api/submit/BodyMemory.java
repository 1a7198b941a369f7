package dev.conveyor.api.submit;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.auth.Caller;
import dev.conveyor.api.limits.LimitsProperties;
import dev.conveyor.api.limits.TooManyRequests;
import dev.conveyor.api.web.ApiException;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.http.HttpServletRequest;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;

/**
 * The memory that submissions' bodies may take at once ({@code conveyor.api.body-memory-bytes}; by default a quarter
 * of the heap). A body is held while it is read and its jobs' payloads, about its size again, until it is answered, so
 * a submission reserves twice its body's size here before reading it (as it reads, for a body of unannounced length)
 * and gives it back once answered. One that cannot reserve within {@link #DEFAULT_WAIT} is a 503 with
 * {@code Retry-After}: nothing stored, the client sends it again. Without this, clients sending many large bodies at
 * once, or slowly, could make the api hold more than its heap, and any request of that moment fail with it.
 *
 * <p>Bodies announced at most {@link #SMALL} (single submissions, small batches) reserve from a part of their own, a
 * quarter of the memory: large bodies sent slowly, which hold the rest for as long as they take, do not hold back the
 * small ones. A body of unannounced length (chunked) starts there too, and moves to the large bodies' part once it
 * grows past {@link #SMALL}.
 *
 * <p>With API keys, one tenant's large bodies may hold at most {@code conveyor.api.limits.tenant-body-share} percent of
 * the large bodies' part at once (a tenant holding nothing may always send one body, however large): past it a body
 * is a 429 at once, before it is read. Without it, one tenant sending large bodies slowly, again and again, kept
 * every other tenant's large submissions waiting, then refused with a 503.
 *
 * <p>How long they take is bounded ({@code conveyor.api.body-timeout}, {@code body-min-rate}): a body must arrive
 * within the timeout, plus a second for every {@code body-min-rate} bytes received, counted from when it is taken up
 * but for the time it waits for memory, or it is a 400 naming {@code body} and its memory is given back. Tomcat's own
 * timeout applies to each read only (a client sending a byte every few seconds passed it for ever, holding its
 * reservation); {@link BodyTimeout} sets it to the same timeout while a request is read, so a read that waits on a
 * silent client ends then too.
 */
@Component
class BodyMemory {

    static final Duration DEFAULT_WAIT = Duration.ofSeconds(5);
    private static final int KIB = 1024;
    /** A body of unannounced length is read, and memory reserved for it, this much at a time. */
    private static final int CHUNK = 64 * KIB;
    /**
     * Bodies announced up to this size are read into an array of their size
     * ({@link #read(InputStream, long, int, Body)}).
     */
    private static final int EXACT_READ_MAX = 16 * KIB;

    /** Bodies announced up to this size reserve from {@link #small}, others from {@link #large}. */
    static final int SMALL = 64 * KIB;

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final Pool large;
    private final Pool small;
    private final Duration wait;
    private final Duration timeout;
    private final long timeoutNanos;
    private final long minRate;
    private final LongSupplier nanoTime;
    /** The most KiB of {@link #large} one tenant's bodies may hold; 0: no limit. */
    private final int tenantShareKib;
    /** KiB of {@link #large} held by each tenant's bodies, for those holding any (only with a tenant share). */
    private final ConcurrentHashMap<String, Integer> heldByTenant = new ConcurrentHashMap<>();

    @Autowired
    BodyMemory(ApiProperties properties, LimitsProperties limits, MeterRegistry meters) {
        this(properties.bodyMemoryBytes() > 0 ? properties.bodyMemoryBytes() : Runtime.getRuntime().maxMemory() / 4,
                DEFAULT_WAIT, properties.bodyTimeout(), properties.bodyMinRate(), limits.tenantBodyShare(),
                System::nanoTime);
        Gauge.builder("conveyor.api.body.memory.reserved", this, memory -> memory.reservedBytes())
                .description("Memory reserved by submissions' bodies being read or answered")
                .baseUnit("bytes").register(meters);
    }

    /**
     * @param timeout  how long a body may take ({@code body-timeout})
     * @param minRate  bytes per second at which a body may take longer: a second more per {@code minRate} bytes
     *                 received ({@code body-min-rate}; 0: no longer)
     * @param nanoTime the clock of those times, {@link System#nanoTime()} but in tests
     */
    BodyMemory(long capacityBytes, Duration wait, Duration timeout, long minRate, LongSupplier nanoTime) {
        this(capacityBytes, wait, timeout, minRate, 0, nanoTime);
    }

    /** @param tenantSharePercent {@code limits.tenant-body-share}: 0 or 100, no share per tenant */
    BodyMemory(long capacityBytes, Duration wait, Duration timeout, long minRate, int tenantSharePercent,
            LongSupplier nanoTime) {
        this.small = new Pool(Math.max(2 * SMALL, capacityBytes / 4));
        this.large = new Pool(Math.max(2 * SMALL, capacityBytes - capacityBytes / 4));
        this.tenantShareKib = tenantSharePercent <= 0 || tenantSharePercent >= 100 ? 0
                : (int) Math.max(1, (long) large.capacityKib * tenantSharePercent / 100);
        this.wait = wait;
        this.timeout = timeout;
        this.timeoutNanos = timeout.toNanos();
        this.minRate = minRate;
        this.nanoTime = nanoTime;
    }

    /** Memory in KiB, one permit each. */
    private static final class Pool {

        final Semaphore kib;
        final int capacityKib;

        Pool(long bytes) {
            capacityKib = (int) Math.clamp(bytes / KIB, 1, Integer.MAX_VALUE);
            kib = new Semaphore(capacityKib);
        }

        long reservedBytes() {
            return (long) (capacityKib - kib.availablePermits()) * KIB;
        }
    }

    long reservedBytes() {
        return large.reservedBytes() + small.reservedBytes();
    }

    /** Whether a submission waits for memory. */
    boolean hasWaiting() {
        return large.kib.hasQueuedThreads() || small.kib.hasQueuedThreads();
    }

    /** A body, and the memory reserved for it: close it once the request is answered. */
    final class Body implements AutoCloseable {

        /** When it was taken up, moved on by the time it waited for memory: its time is the client's only. */
        private long started = nanoTime.getAsLong();
        /** Until when it may wait for memory. */
        private final long deadline = started + wait.toNanos();
        private final long announced;
        /** The tenant whose share of {@link #large} this body counts against; null: none. */
        private final String tenant;
        private long received;
        private Pool pool;
        private byte[] bytes;
        private int reservedKib;

        private Body(Pool pool, long announced, String tenant) {
            this.pool = pool;
            this.announced = announced;
            this.tenant = tenant;
        }

        byte[] bytes() {
            return bytes;
        }

        /** Holds memory for {@code bytes} in all (at most the whole capacity), waiting until the deadline. */
        private void reserve(long bytes) {
            var needed = (int) Math.min(pool.capacityKib, (bytes + KIB - 1) / KIB);
            if (needed <= reservedKib) {
                return;
            }
            var counted = pool == large && tenant != null;
            if (counted) {
                takeShare(tenant, reservedKib, needed - reservedKib);
            }
            var reserved = false;
            try {
                if (!pool.kib.tryAcquire(needed - reservedKib)) {
                    var waiting = nanoTime.getAsLong();
                    try {
                        if (!pool.kib.tryAcquire(needed - reservedKib, Math.max(0, deadline - waiting),
                                TimeUnit.NANOSECONDS)) {
                            throw busy();
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw busy();
                    } finally {
                        started += nanoTime.getAsLong() - waiting;
                    }
                }
                reserved = true;
            } finally {
                if (counted && !reserved) {
                    giveShare(tenant, needed - reservedKib);
                }
            }
            reservedKib = needed;
        }

        /** Holds memory for {@code bytes} in all from the large bodies' part, giving back what it held in another. */
        private void reserveLarge(long bytes) {
            if (pool == large) {
                reserve(bytes);
                return;
            }
            var held = pool;
            var heldKib = reservedKib;
            pool = large;
            reservedKib = 0;
            try {
                reserve(bytes);
            } finally {
                held.kib.release(heldKib);
            }
        }

        @Override
        public void close() {
            pool.kib.release(reservedKib);
            if (pool == large && tenant != null) {
                giveShare(tenant, reservedKib);
            }
            reservedKib = 0;
        }

        /**
         * Reads what has arrived of the body, up to {@code length} bytes, once it is sure the body is not past its
         * time: it may take {@code body-timeout}, plus a second for every {@code body-min-rate} bytes received.
         */
        private int read(InputStream in, byte[] into, int offset, int length) throws IOException {
            if (announced < 0 || received < announced) {
                var allowed = timeoutNanos + (minRate == 0 ? 0 : received * NANOS_PER_SECOND / minRate);
                if (nanoTime.getAsLong() - started > allowed) {
                    throw tooSlow(this);
                }
            }
            var read = in.read(into, offset, length);
            if (read > 0) {
                received += read;
            }
            return read;
        }

        /** Reads {@code length} bytes, fewer only when the body ends first. */
        private int readFully(InputStream in, byte[] into, int offset, int length) throws IOException {
            var done = 0;
            while (done < length) {
                var read = read(in, into, offset + done, length - done);
                if (read < 0) {
                    break;
                }
                done += read;
            }
            return done;
        }

        /** The body's stream, each read of it timed as {@link #read(InputStream, byte[], int, int)} times it. */
        private InputStream timed(InputStream in) {
            return new InputStream() {
                @Override
                public int read() throws IOException {
                    var one = new byte[1];
                    return readFully(in, one, 0, 1) == 1 ? one[0] & 0xFF : -1;
                }

                @Override
                public int read(byte[] into, int offset, int length) throws IOException {
                    return Body.this.read(in, into, offset, length);
                }
            };
        }
    }

    /**
     * Reads the request's whole body, of at most {@code limit} bytes, with memory reserved for it.
     *
     * @throws ApiException 413 past the limit, 400 for an empty body or one that ends early, 503 when the memory
     *                      for it stays taken for {@link #DEFAULT_WAIT}
     */
    Body read(HttpServletRequest http, int limit, Caller caller) {
        var announced = http.getContentLengthLong();
        if (announced > limit) {
            throw tooLarge(limit);
        }
        var tenant = tenantShareKib == 0 || caller.open() ? null : caller.tenant();
        var body = new Body(announced > SMALL ? large : small, announced, tenant);
        try {
            try (var in = http.getInputStream()) {
                if (announced >= 0) {
                    body.reserve(2 * announced);
                    body.bytes = read(in, announced, limit, body);
                } else {
                    body.bytes = readUnannounced(in, limit, body);
                }
            } catch (IOException e) {
                throw timedOut(e) ? tooSlow(body) : ApiException.invalid("body", "could not be read to its end");
            }
            if (body.bytes.length > limit) {
                throw tooLarge(limit);
            }
            if (body.bytes.length == 0) {
                throw ApiException.invalid("body", "is empty; send a JSON object");
            }
            return body;
        } catch (RuntimeException e) {
            body.close();
            throw e;
        }
    }

    /**
     * The whole body of announced length. A small one (a single submission, nearly always) is read into an array of
     * exactly that size; any other is read as it arrives, up to one byte past the limit, so that a client announcing a
     * large body and sending little makes the api hold only what was sent ({@link InputStream#readNBytes(int)} takes
     * a 16 KiB buffer to start with, which for a body of a few hundred bytes was most of what it allocated).
     */
    private static byte[] read(InputStream in, long announced, int limit, Body body) throws IOException {
        if (announced > EXACT_READ_MAX) {
            return body.timed(in).readNBytes(limit + 1);
        }
        var bytes = new byte[(int) announced];
        if (body.readFully(in, bytes, 0, bytes.length) < bytes.length) {
            throw new EOFException("the body ended before its Content-Length");
        }
        return bytes;
    }

    /**
     * A chunked body, read a chunk at a time, each reserved before it is read, up to one byte past the limit: its
     * first chunk ({@link #SMALL}) from the small bodies' part, the rest from the large bodies'.
     */
    private static byte[] readUnannounced(InputStream in, int limit, Body body) throws IOException {
        var out = new ByteArrayOutputStream();
        var chunk = new byte[CHUNK];
        while (out.size() <= limit) {
            var needed = 2L * (out.size() + CHUNK);
            if (needed > 2L * SMALL) {
                body.reserveLarge(needed);
            } else {
                body.reserve(needed);
            }
            var read = body.readFully(in, chunk, 0, (int) Math.min(CHUNK, limit + 1L - out.size()));
            out.write(chunk, 0, read);
            if (read < CHUNK) {
                break;
            }
        }
        return out.toByteArray();
    }

    /**
     * Counts {@code moreKib} of {@link #large} against the tenant's share, where one of its bodies already holds
     * {@code ownKib}; or throws a 429 when its other bodies hold so much that this would pass the share.
     */
    private void takeShare(String tenant, int ownKib, int moreKib) {
        heldByTenant.compute(tenant, (key, held) -> {
            var before = held == null ? 0 : held;
            var others = before - ownKib;
            if (others > 0 && others + ownKib + moreKib > tenantShareKib) {
                throw tenantFull(others);
            }
            return before + moreKib;
        });
    }

    private void giveShare(String tenant, int kib) {
        if (kib > 0) {
            heldByTenant.computeIfPresent(tenant, (key, held) -> held - kib > 0 ? held - kib : null);
        }
    }

    /** KiB of the large bodies' part that the tenant's bodies hold now. */
    int heldByTenantKib(String tenant) {
        return heldByTenant.getOrDefault(tenant, 0);
    }

    private TooManyRequests tenantFull(int heldKib) {
        return new TooManyRequests("tenant-bodies-full", "Too many large request bodies at once", "This tenant's "
                + "request bodies being read or answered on this api instance hold " + mib(heldKib) + ", and "
                + "may hold at most " + mib(tenantShareKib) + " (conveyor.api.limits.tenant-body-share of the "
                + "memory for bodies over 64 KiB); nothing was stored. Send it again when one has been answered", 1);
    }

    private static String mib(int kib) {
        return String.format(Locale.ROOT, "%.1f MiB", kib / (double) KIB);
    }

    static ApiException tooLarge(int limit) {
        return new ApiException(HttpStatus.CONTENT_TOO_LARGE, "payload-too-large", "Request too large",
                "The request body is larger than " + limit + " bytes", List.of());
    }

    /** Whether a read failed for the client's silence (Tomcat's read timeout), not for its going away. */
    private static boolean timedOut(IOException e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof SocketTimeoutException) {
                return true;
            }
        }
        return false;
    }

    private ApiException tooSlow(Body body) {
        var rate = minRate == 0 ? "" : ", plus a second for every " + minRate + " bytes received (body-min-rate)";
        var sent = body.announced < 0 ? body.received + " bytes" : body.received + " of its " + body.announced
                + " bytes";
        return ApiException.invalid("body", "did not arrive in time: the api gives a body " + timeout.toSeconds()
                + " s (conveyor.api.body-timeout)" + rate + ", and this one had sent " + sent + " in "
                + Duration.ofNanos(nanoTime.getAsLong() - body.started).toSeconds() + " s; nothing was stored");
    }

    private static ApiException busy() {
        return new ApiException(HttpStatus.SERVICE_UNAVAILABLE, "busy", "Too many request bodies at once",
                "The api holds as many request bodies as conveyor.api.body-memory-bytes allows; nothing was stored. "
                        + "Try again.", List.of());
    }
}
