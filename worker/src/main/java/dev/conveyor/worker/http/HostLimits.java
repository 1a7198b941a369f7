package dev.conveyor.worker.http;

import java.net.URI;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * At most {@code limit} requests at once to one origin (scheme, host and port), so that thousands of jobs calling one
 * server share a bounded set of keep-alive connections instead of opening a socket each. Requests over the limit wait
 * in arrival order on their own (virtual) thread, until the job's deadline or an interrupt.
 *
 * <p>An origin's permits exist only while some request holds or awaits one: the entries never outnumber the requests
 * in flight, whatever hosts the jobs name.
 */
final class HostLimits {

    private final int limit;
    private final ConcurrentHashMap<String, Origin> origins = new ConcurrentHashMap<>();

    /** A permit to send one request; closing it lets the next waiting request go. */
    interface Permit extends AutoCloseable {
        @Override
        void close();
    }

    private static final class Origin {
        final Semaphore permits;
        /** Requests holding or awaiting a permit; changed only inside the map's atomic compute. */
        int users;

        Origin(int limit) {
            permits = new Semaphore(limit, true);
        }
    }

    HostLimits(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("the per-host limit must be at least 1, not " + limit);
        }
        this.limit = limit;
    }

    int limit() {
        return limit;
    }

    /**
     * Waits until a request to {@code uri}'s origin may be sent, at most until {@code deadline} ({@link System#nanoTime()}).
     *
     * @throws TimeoutException when the deadline passes first
     * @throws InterruptedException when the job is cancelled or times out meanwhile
     */
    Permit acquire(URI uri, long deadline) throws InterruptedException, TimeoutException {
        var key = key(uri);
        var origin = origins.compute(key, (k, existing) -> {
            var entry = existing == null ? new Origin(limit) : existing;
            entry.users++;
            return entry;
        });
        var acquired = false;
        try {
            acquired = origin.permits.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } finally {
            if (!acquired) {
                leave(key);
            }
        }
        if (!acquired) {
            throw new TimeoutException("no free connection to " + key + " in time");
        }
        return new Permit() {
            private boolean closed;

            @Override
            public void close() {
                if (!closed) {
                    closed = true;
                    origin.permits.release();
                    leave(key);
                }
            }
        };
    }

    /** Origins that have requests holding or awaiting a permit now. */
    int origins() {
        return origins.size();
    }

    private void leave(String key) {
        origins.computeIfPresent(key, (k, origin) -> --origin.users == 0 ? null : origin);
    }

    static String key(URI uri) {
        var scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        var port = uri.getPort() != -1 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
        return scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + ":" + port;
    }
}
