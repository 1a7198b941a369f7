package dev.conveyor.worker.http;

import dev.conveyor.worker.Deadlines;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * At most {@code limit} requests at once to one origin (scheme, host and port), so that thousands of jobs calling one
 * server share a bounded set of keep-alive connections instead of opening a socket each. Requests over the limit wait
 * in arrival order on their own (virtual) thread, until the job's deadline or an interrupt.
 *
 * <p>A waiting request parks without a timeout: a freed permit is handed to the first waiter, and the {@link Deadlines}
 * timer ends a wait whose deadline passes (see there for why not a timed park).
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

    /** The permits of one origin, and the requests waiting for one, first come first served. */
    private static final class Origin {
        /** Requests holding or awaiting a permit; changed only inside the map's atomic compute. */
        int users;
        private int free;
        // Each completes once: normally when a permit is handed to it, exceptionally when its wait ends first.
        private final ArrayDeque<CompletableFuture<Void>> waiting = new ArrayDeque<>();

        Origin(int limit) {
            free = limit;
        }

        /** Takes a free permit (true), or queues {@code waiter} for the next one (false). */
        synchronized boolean takeOrQueue(CompletableFuture<Void> waiter) {
            if (free > 0) {
                free--;
                return true;
            }
            waiting.addLast(waiter);
            return false;
        }

        /** Hands a permit back: to the first waiter still waiting, else to the free ones. */
        synchronized void release() {
            for (var next = waiting.pollFirst(); next != null; next = waiting.pollFirst()) {
                if (next.complete(null)) {
                    return;
                }
            }
            free++;
        }

        /** Ends a wait: true when it had not been handed a permit (the caller holds none), false when it had. */
        boolean abandon(CompletableFuture<Void> waiter, Throwable why) {
            if (waiter.completeExceptionally(why)) {
                synchronized (this) {
                    waiting.remove(waiter);
                }
                return true;
            }
            return false;
        }
    }

    /** Ends a wait at its deadline; thrown into no thread, only the marker of a wait that timed out. */
    private static final class PastDeadline extends RuntimeException {
        PastDeadline() {
            super(null, null, false, false);
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
            acquired = await(origin, deadline);
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
                    origin.release();
                    leave(key);
                }
            }
        };
    }

    /** True once the origin handed this request a permit; false when the deadline passed first. */
    private static boolean await(Origin origin, long deadline) throws InterruptedException {
        var waiter = new CompletableFuture<Void>();
        if (origin.takeOrQueue(waiter)) {
            return true;
        }
        var left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        var timer = Deadlines.after(left, () -> origin.abandon(waiter, new PastDeadline()));
        try {
            waiter.get();
            return true;
        } catch (ExecutionException pastDeadline) {
            return false;
        } catch (InterruptedException e) {
            if (!origin.abandon(waiter, e)) {
                origin.release(); // handed a permit as the interrupt came: hand it on
            }
            throw e;
        } finally {
            timer.cancel(false);
        }
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
