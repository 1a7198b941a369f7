package dev.conveyor.api.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Gauges of one name whose values are set together from a periodic query. Each tag set is registered once and kept
 * (a set missing from a later refresh reads 0), so a scrape never meets a gauge half replaced; the tag sets are
 * queues and statuses, which configuration bounds.
 */
final class GaugeSet {

    private final String name;
    private final String description;
    private final String baseUnit;
    private final MeterRegistry meters;
    private final ConcurrentHashMap<Tags, AtomicLong> values = new ConcurrentHashMap<>();

    GaugeSet(String name, String description, String baseUnit, MeterRegistry meters) {
        this.name = name;
        this.description = description;
        this.baseUnit = baseUnit;
        this.meters = meters;
    }

    /** The values now; tag sets seen before and not given read 0. */
    void set(Map<Tags, Double> now) {
        values.forEach((tags, value) -> {
            if (!now.containsKey(tags)) {
                value.set(Double.doubleToLongBits(0));
            }
        });
        now.forEach((tags, value) -> values.computeIfAbsent(tags, this::register)
                .set(Double.doubleToLongBits(value)));
    }

    private AtomicLong register(Tags tags) {
        var value = new AtomicLong(Double.doubleToLongBits(0));
        Gauge.builder(name, value, bits -> Double.longBitsToDouble(bits.get())).description(description)
                .baseUnit(baseUnit).tags(tags).register(meters);
        return value;
    }
}
