package dev.conveyor.api.dispatch;

import dev.conveyor.api.ApiProperties;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Due jobs that this instance accepted beyond their tenant's window, kept in memory until the window has room, then
 * published by the {@link DuePoller} as they are, oldest first. They are stored with this instance's dispatch lease,
 * as the jobs published at once are, so no other poller takes them meanwhile, and the poller's claim (which writes
 * every job it takes once more, its lease) is spared for them: a burst costs PostgreSQL the same per job whether it
 * fits its tenant's window or not.
 *
 * <p>The rows stay the truth: what is kept here is only a shortcut. A job kept longer than the lease leaves time to
 * publish it ({@link PublishWindow}) is dropped and its lease given back, so the poller claims it at once; a job
 * that ends meanwhile (cancelled, on any instance) is dropped and never published. If this instance dies, its leases
 * are those of a dead owner, which the other pollers (or its own, once restarted) take at once. At most
 * {@code backlog-jobs} jobs taking {@code backlog-bytes} in all (their payloads, encoded, and {@link #ENTRY_BYTES}
 * each) are kept; the rest are stored without a lease, for the poller's claim.
 */
@Component
public class Backlog {

    private record Entry(Dispatcher.Item item, long takenAt, int bytes) {
    }

    /** What a kept job costs in memory besides its payload (the entry, the item, its id and strings), roughly. */
    static final int ENTRY_BYTES = 256;

    /** Jobs to publish, and when the earliest of them was taken (its lease written), by {@link System#nanoTime()}. */
    record Drained(List<Dispatcher.Item> items, long takenAt) {
    }

    private final int maxJobs;
    private final long maxBytes;
    private final LeaseReleases releases;
    // guarded by this
    private final Map<TenantWindows.Pair, ArrayDeque<Entry>> waiting = new LinkedHashMap<>();
    // where each kept job waits: read without the lock for every job that ends anywhere, written under it
    private final Map<UUID, TenantWindows.Pair> keptIn = new ConcurrentHashMap<>();
    private int places;
    private int kept;
    private long bytes;

    @Autowired
    Backlog(ApiProperties properties, LeaseReleases releases, MeterRegistry meters) {
        this(properties.dispatch().backlogJobs(), properties.dispatch().backlogBytes(), releases);
        Gauge.builder("conveyor.dispatch.backlog", this, Backlog::size)
                .description("jobs past their tenant's window kept by this api instance to publish as it frees up")
                .register(meters);
    }

    Backlog(int maxJobs, long maxBytes, LeaseReleases releases) {
        this.maxJobs = maxJobs;
        this.maxBytes = maxBytes;
        this.releases = releases;
    }

    /** Reserves up to {@code wanted} places for jobs about to be stored with a lease; answers how many it got. */
    public synchronized int reserve(int wanted) {
        var granted = Math.max(0, Math.min(wanted, maxJobs - places));
        places += granted;
        return granted;
    }

    /** Gives back reserved places that no job took (the insert failed, or found the job stored before). */
    public synchronized void unreserve(int unused) {
        places -= unused;
    }

    /**
     * Keeps a stored job in a place reserved for it. One that does not fit in {@code backlog-bytes} (its payload and
     * {@link #ENTRY_BYTES}) gives its place and its lease back, for the poller.
     *
     * @param takenAt when its lease was taken ({@link System#nanoTime()} before the insert that wrote it)
     * @param payloadBytes its payload's size, encoded
     */
    public void keep(String queue, String tenant, Dispatcher.Item item, long takenAt, int payloadBytes) {
        var size = (long) payloadBytes + ENTRY_BYTES;
        synchronized (this) {
            if (bytes + size <= maxBytes) {
                bytes += size;
                kept++;
                var pair = new TenantWindows.Pair(queue, tenant);
                waiting.computeIfAbsent(pair, p -> new ArrayDeque<>()).addLast(new Entry(item, takenAt, (int) size));
                keptIn.put(item.id(), pair);
                return;
            }
            places--;
        }
        releases.release(item);
    }

    /**
     * Takes the jobs that now fit in their tenants' windows, a slot held for each, oldest first. Jobs taken before
     * {@code takenBefore} are left too late to publish under their lease: dropped, their leases given back.
     */
    Drained drain(TenantWindows windows, long takenBefore) {
        var items = new ArrayList<Dispatcher.Item>();
        var expired = new ArrayList<Dispatcher.Item>();
        var earliest = 0L;
        synchronized (this) {
            for (var pairs = waiting.entrySet().iterator(); pairs.hasNext(); ) {
                var entry = pairs.next();
                var pair = entry.getKey();
                var queue = entry.getValue();
                while (!queue.isEmpty() && queue.peekFirst().takenAt() - takenBefore < 0) {
                    expired.add(forget(queue.pollFirst()).item());
                }
                var granted = queue.isEmpty() ? 0 : windows.reserve(pair.queue(), pair.tenant(), queue.size());
                for (var i = 0; i < granted; i++) {
                    var taken = forget(queue.pollFirst());
                    if (items.isEmpty() || taken.takenAt() - earliest < 0) {
                        earliest = taken.takenAt();
                    }
                    windows.hold(taken.item().id(), pair.queue(), pair.tenant());
                    items.add(taken.item());
                }
                if (queue.isEmpty()) {
                    pairs.remove();
                }
            }
        }
        expired.forEach(releases::release);
        return new Drained(items, earliest);
    }

    /**
     * Jobs that ended (cancelled, on this instance or another): those kept here are dropped, never published. Their
     * leases stay as they are: an ended job is no poller's to claim.
     */
    public void ended(Collection<UUID> ids) {
        Map<TenantWindows.Pair, Set<UUID>> drop = null;
        for (var id : ids) {
            var pair = keptIn.get(id);
            if (pair != null) {
                if (drop == null) {
                    drop = new HashMap<>();
                }
                drop.computeIfAbsent(pair, p -> new HashSet<>()).add(id);
            }
        }
        if (drop == null) {
            return;
        }
        synchronized (this) {
            drop.forEach((pair, dropped) -> {
                var queue = waiting.get(pair);
                if (queue == null) {
                    return;
                }
                for (var entries = queue.iterator(); entries.hasNext(); ) {
                    var entry = entries.next();
                    if (dropped.contains(entry.item().id())) {
                        entries.remove();
                        forget(entry);
                    }
                }
                if (queue.isEmpty()) {
                    waiting.remove(pair);
                }
            });
        }
    }

    private Entry forget(Entry entry) {
        places--;
        kept--;
        bytes -= entry.bytes();
        keptIn.remove(entry.item().id());
        return entry;
    }

    /** Jobs kept now. */
    synchronized int size() {
        return kept;
    }
}
