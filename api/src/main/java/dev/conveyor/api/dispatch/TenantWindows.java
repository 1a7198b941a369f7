package dev.conveyor.api.dispatch;

import dev.conveyor.api.ApiProperties;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Fair sharing of a queue between tenants: how many jobs of each (queue, tenant) this api instance has put on Kafka
 * that no worker has started yet, at most {@code conveyor.api.dispatch.tenant-window} each. Kafka hands a queue's
 * records to the workers in the order they were written, so a tenant with a million jobs would otherwise put them
 * all in front of everyone else's; with the window, another tenant's new job waits behind at most a window of
 * each tenant's records. What does not fit stays in PostgreSQL, where the {@link DuePoller} takes an equal share of
 * each tenant's due jobs as their windows free up.
 *
 * <p>A slot is freed when this instance reads the job's start (or end) from the workers, learns that it ended (the
 * ended-jobs notification every instance receives), or fails to publish it. With several api instances, another
 * instance may read the start: the slot is then freed at the job's end, or at the latest after
 * {@code tenant-window-expiry}, which also bounds what a lost record or a bug could hold.
 */
@Component
public class TenantWindows {

    record Pair(String queue, String tenant) {
    }

    private record Held(Pair pair, long since) {
    }

    private final int size;
    private final long expiryNanos;
    private final ConcurrentHashMap<Pair, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<UUID, Held> held = new ConcurrentHashMap<>();
    private volatile boolean backlog;
    private volatile Runnable onFreed = () -> { };
    /** Slots freed since the poller last looked; it is woken once a tenth of a window has freed up. */
    private final AtomicInteger freedSinceLook = new AtomicInteger();
    private final int wakeAfter;

    @Autowired
    TenantWindows(ApiProperties properties) {
        this(properties.dispatch().tenantWindow(), properties.dispatch().tenantWindowExpiry().toNanos());
    }

    TenantWindows(int size, long expiryNanos) {
        this.size = size;
        this.expiryNanos = expiryNanos;
        this.wakeAfter = Math.max(1, size / 10);
    }

    /** The most jobs of one (queue, tenant) on Kafka and not started, per api instance. */
    public int size() {
        return size;
    }

    /**
     * Reserves up to {@code wanted} slots for jobs about to be published; answers how many it got. The jobs beyond
     * them are left to the poller, which is then told to look again as slots free up.
     */
    public int reserve(String queue, String tenant, int wanted) {
        var count = counts.computeIfAbsent(new Pair(queue, tenant), pair -> new AtomicInteger());
        while (true) {
            var now = count.get();
            var granted = Math.max(0, Math.min(wanted, size - now));
            if (granted < wanted) {
                backlog = true;
            }
            if (granted == 0 || count.compareAndSet(now, now + granted)) {
                return granted;
            }
        }
    }

    /** Gives back reserved slots that no job used (a replayed or refused submission). */
    public void unreserve(String queue, String tenant, int slots) {
        if (slots > 0) {
            counts.get(new Pair(queue, tenant)).addAndGet(-slots);
            freed();
        }
    }

    /** A job published in a slot reserved for it. */
    public void hold(UUID id, String queue, String tenant) {
        var pair = new Pair(queue, tenant);
        if (held.put(id, new Held(pair, System.nanoTime())) != null) {
            counts.get(pair).decrementAndGet(); // it held one already (published again): keep one
        }
    }

    /**
     * A job the poller took within the room it saw when it looked: takes a slot for it if one is still free, since a
     * submission may have reserved the room between that look and the claim. A job this instance holds already (it is
     * published again) keeps its slot. Answers whether the job may be published; if not, its tenant has a backlog.
     */
    boolean admit(UUID id, String queue, String tenant) {
        var pair = new Pair(queue, tenant);
        if (held.computeIfPresent(id, (job, was) -> new Held(pair, System.nanoTime())) != null) {
            return true;
        }
        if (reserve(queue, tenant, 1) == 0) {
            return false;
        }
        hold(id, queue, tenant);
        return true;
    }

    /** A job published whatever the room (an operator retried it). */
    public void take(UUID id, String queue, String tenant) {
        var pair = new Pair(queue, tenant);
        if (held.put(id, new Held(pair, System.nanoTime())) == null) {
            counts.computeIfAbsent(pair, p -> new AtomicInteger()).incrementAndGet();
        }
    }

    /** The job started, ended or was not published: its slot, if it holds one, is free. */
    public void settled(UUID id) {
        var was = held.remove(id);
        if (was != null) {
            counts.get(was.pair()).decrementAndGet();
            freed();
        }
    }

    /** Room left in each (queue, tenant) that holds slots; any other has the whole window. */
    Map<Pair, Integer> rooms() {
        var rooms = new HashMap<Pair, Integer>();
        counts.forEach((pair, count) -> {
            var used = count.get();
            if (used > 0) {
                rooms.put(pair, Math.max(0, size - used));
            }
        });
        return rooms;
    }

    /** Frees the slots held longer than the expiry; answers how many. */
    int expire() {
        var now = System.nanoTime();
        var expired = 0;
        for (var entry : held.entrySet()) {
            if (now - entry.getValue().since() >= expiryNanos && held.remove(entry.getKey(), entry.getValue())) {
                counts.get(entry.getValue().pair()).decrementAndGet();
                expired++;
            }
        }
        if (expired > 0) {
            freed();
        }
        return expired;
    }

    /** Whether some tenant had due jobs that did not fit at the last look. */
    boolean backlog() {
        return backlog;
    }

    void backlog(boolean backlog) {
        this.backlog = backlog;
    }

    /** Called (cheaply, maybe often) when slots free up while some tenant waits for them. */
    void onFreed(Runnable onFreed) {
        this.onFreed = onFreed;
    }

    /** The poller is about to look: slots freed from now on count towards its next wake-up. */
    void looking() {
        freedSinceLook.set(0);
    }

    /**
     * Wakes the poller when enough slots have freed up while some tenant waits: a claim per freed slot would cost a
     * query per job.
     */
    private void freed() {
        if (backlog && freedSinceLook.incrementAndGet() == wakeAfter) {
            onFreed.run();
        }
    }

    /** Jobs holding a slot (for tests and metrics). */
    int held() {
        return held.size();
    }
}
