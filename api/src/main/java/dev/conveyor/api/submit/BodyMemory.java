package dev.conveyor.api.submit;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.web.ApiException;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.http.HttpServletRequest;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
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
 */
@Component
class BodyMemory {

    static final Duration DEFAULT_WAIT = Duration.ofSeconds(5);
    private static final int KIB = 1024;
    /** A body of unannounced length is read, and memory reserved for it, this much at a time. */
    private static final int CHUNK = 64 * KIB;
    /** Bodies announced up to this size are read into an array of their size ({@link #read(InputStream, long, int)}). */
    private static final int EXACT_READ_MAX = 16 * KIB;

    /** Bodies announced up to this size reserve from {@link #small}, others from {@link #large}. */
    static final int SMALL = 64 * KIB;

    private final Pool large;
    private final Pool small;
    private final Duration wait;

    @Autowired
    BodyMemory(ApiProperties properties, MeterRegistry meters) {
        this(properties.bodyMemoryBytes() > 0 ? properties.bodyMemoryBytes() : Runtime.getRuntime().maxMemory() / 4,
                DEFAULT_WAIT);
        Gauge.builder("conveyor.api.body.memory.reserved", this, memory -> memory.reservedBytes())
                .description("Memory reserved by submissions' bodies being read or answered")
                .baseUnit("bytes").register(meters);
    }

    BodyMemory(long capacityBytes, Duration wait) {
        this.small = new Pool(Math.max(2 * SMALL, capacityBytes / 4));
        this.large = new Pool(Math.max(2 * SMALL, capacityBytes - capacityBytes / 4));
        this.wait = wait;
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

        private final long deadline = System.nanoTime() + wait.toNanos();
        private Pool pool;
        private byte[] bytes;
        private int reservedKib;

        private Body(Pool pool) {
            this.pool = pool;
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
            try {
                if (!pool.kib.tryAcquire(needed - reservedKib, Math.max(0, deadline - System.nanoTime()),
                        TimeUnit.NANOSECONDS)) {
                    throw busy();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw busy();
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
            reservedKib = 0;
        }
    }

    /**
     * Reads the request's whole body, of at most {@code limit} bytes, with memory reserved for it.
     *
     * @throws ApiException 413 past the limit, 400 for an empty body or one that ends early, 503 when the memory
     *                      for it stays taken for {@link #DEFAULT_WAIT}
     */
    Body read(HttpServletRequest http, int limit) {
        var announced = http.getContentLengthLong();
        if (announced > limit) {
            throw tooLarge(limit);
        }
        var body = new Body(announced > SMALL ? large : small);
        try {
            try (var in = http.getInputStream()) {
                if (announced >= 0) {
                    body.reserve(2 * announced);
                    body.bytes = read(in, announced, limit);
                } else {
                    body.bytes = readUnannounced(in, limit, body);
                }
            } catch (IOException e) {
                throw ApiException.invalid("body", "could not be read to its end");
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
    private static byte[] read(InputStream in, long announced, int limit) throws IOException {
        if (announced > EXACT_READ_MAX) {
            return in.readNBytes(limit + 1);
        }
        var bytes = new byte[(int) announced];
        if (in.readNBytes(bytes, 0, bytes.length) < bytes.length) {
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
            var read = in.readNBytes(chunk, 0, (int) Math.min(CHUNK, limit + 1L - out.size()));
            out.write(chunk, 0, read);
            if (read < CHUNK) {
                break;
            }
        }
        return out.toByteArray();
    }

    static ApiException tooLarge(int limit) {
        return new ApiException(HttpStatus.CONTENT_TOO_LARGE, "payload-too-large", "Request too large",
                "The request body is larger than " + limit + " bytes", List.of());
    }

    private static ApiException busy() {
        return new ApiException(HttpStatus.SERVICE_UNAVAILABLE, "busy", "Too many request bodies at once",
                "The api holds as many request bodies as conveyor.api.body-memory-bytes allows; nothing was stored. "
                        + "Try again.", List.of());
    }
}
