package dev.conveyor.api.dashboard;

import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * The dashboard's throughput and latency series: a ring of the last {@code history} of buckets, over all queues and
 * per queue. Every second it checks whether another bucket has settled; if so, one query ({@link EndedJobs}) counts
 * the ends recorded since the last one. So the cost is one small indexed query per bucket (5 s), whatever the number
 * of viewers, and the series are shared by all of them. The series start when the api starts.
 */
@Component
class Throughput {

    private static final Logger log = LoggerFactory.getLogger(Throughput.class);

    /** One point of a series. Percentiles are null when no job ended in the bucket. */
    record Bucket(Instant start, long ended, long succeeded, long failed, long cancelled, double perSecond,
            Double p50Ms, Double p95Ms, Double p99Ms) {
    }

    /** The series as last counted: every bucket from the oldest kept to the last settled, oldest first. */
    record Series(List<Bucket> total, Map<String, List<Bucket>> byQueue) {
        static final Series EMPTY = new Series(List.of(), Map.of());
    }

    private final EndedJobs ended;
    private final DashboardProperties properties;
    private final Clock clock;
    /** Counted buckets by start, over all queues and per queue; only the collecting thread touches these. */
    private final TreeMap<Instant, Bucket> total = new TreeMap<>();
    private final Map<String, TreeMap<Instant, Bucket>> byQueue = new TreeMap<>();
    private Instant countedUpTo;
    private boolean failing;
    private volatile Series series = Series.EMPTY;

    Throughput(EndedJobs ended, DashboardProperties properties, Clock clock) {
        this.ended = ended;
        this.properties = properties;
        this.clock = clock;
    }

    Series series() {
        return series;
    }

    @Scheduled(fixedDelay = 1000, initialDelay = 1000)
    void collect() {
        if (countedUpTo != null && !bucketSettledSince(countedUpTo)) {
            return;
        }
        try {
            var span = ended.since(countedUpTo, properties.bucket(), properties.settle(), properties.history());
            if (countedUpTo != null && !span.hi().isAfter(countedUpTo)) {
                return; // the database's clock is behind ours: nothing new has settled there yet
            }
            record(span);
            if (failing) {
                log.info("Counting ended jobs for the dashboard works again");
                failing = false;
            }
        } catch (RuntimeException e) {
            if (!failing) {
                log.warn("Cannot count ended jobs for the dashboard ({}); its charts pause until this works again",
                        e.getMessage());
                failing = true;
            }
        }
    }

    /** Whether a bucket after {@code upTo} has ended and settled, by this JVM's clock. */
    private boolean bucketSettledSince(Instant upTo) {
        return !clock.instant().minus(properties.settle()).isBefore(upTo.plus(properties.bucket()));
    }

    private void record(EndedJobs.Span span) {
        var bucket = properties.bucket();
        var from = countedUpTo == null ? span.hi().minus(bucket) : countedUpTo;
        var oldest = span.hi().minus(bucket.multipliedBy(properties.buckets()));
        if (from.isBefore(oldest)) {
            from = oldest;
        }
        // buckets with no ends are zeros, so that every series has a point per bucket
        for (var start = from; start.isBefore(span.hi()); start = start.plus(bucket)) {
            total.put(start, empty(start));
            for (var queue : byQueue.values()) {
                queue.put(start, empty(start));
            }
        }
        for (var row : span.rows()) {
            var point = bucket(row);
            if (row.queue() == null) {
                total.put(row.start(), point);
            } else {
                byQueue.computeIfAbsent(row.queue(), q -> zeros()).put(row.start(), point);
            }
        }
        total.headMap(oldest).clear();
        byQueue.values().forEach(queue -> queue.headMap(oldest).clear());
        // a queue with no end in the whole window leaves the series
        byQueue.values().removeIf(queue -> queue.values().stream().allMatch(b -> b.ended() == 0));
        countedUpTo = span.hi();
        var queues = new LinkedHashMap<String, List<Bucket>>();
        byQueue.forEach((name, queue) -> queues.put(name, List.copyOf(queue.values())));
        series = new Series(List.copyOf(total.values()), queues);
    }

    /** A new queue's series: zeros over the buckets already kept. */
    private TreeMap<Instant, Bucket> zeros() {
        var buckets = new TreeMap<Instant, Bucket>();
        total.keySet().forEach(start -> buckets.put(start, empty(start)));
        return buckets;
    }

    private Bucket bucket(EndedJobs.Row row) {
        return new Bucket(row.start(), row.ended(), row.succeeded(), row.failed(), row.cancelled(),
                perSecond(row.ended()), row.p50Ms(), row.p95Ms(), row.p99Ms());
    }

    private Bucket empty(Instant start) {
        return new Bucket(start, 0, 0, 0, 0, 0.0, null, null, null);
    }

    private double perSecond(long count) {
        return Math.round(count * 1000.0 / properties.bucket().toSeconds()) / 1000.0;
    }
}
