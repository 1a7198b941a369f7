package dev.conveyor.common.metrics;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

/**
 * Values made once per pair of keys (a queue and a job type, say) and then found without allocating: two map reads
 * on the hot path instead of building a key or looking a meter up by name and tags for every job.
 */
public final class PairCache<V> {

    private final ConcurrentHashMap<String, ConcurrentHashMap<String, V>> byFirst = new ConcurrentHashMap<>();
    private final BiFunction<String, String, V> create;

    public PairCache(BiFunction<String, String, V> create) {
        this.create = create;
    }

    public V get(String first, String second) {
        var inner = byFirst.get(first);
        if (inner == null) {
            inner = byFirst.computeIfAbsent(first, key -> new ConcurrentHashMap<>());
        }
        var value = inner.get(second);
        return value != null ? value : inner.computeIfAbsent(second, key -> create.apply(first, key));
    }
}
