package dev.conveyor.api.dashboard;

import dev.conveyor.api.auth.RequiresScope;
import dev.conveyor.api.auth.Scope;
import dev.conveyor.api.queues.QueueCounts;
import dev.conveyor.api.queues.QueueStats;
import dev.conveyor.api.web.JsonAnswers;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /v1/stats}: what the dashboard's overview shows, summed by the server. The queue counters are read at
 * most once per {@code cache-for} (1 s) however many viewers poll; the series come from {@link Throughput}, counted
 * once per bucket. So any number of open dashboards costs the database about one cheap query per second.
 */
@RestController
@RequiresScope(Scope.ADMIN)
class StatsController {

    /**
     * The answer.
     *
     * @param at            when the queue counters were read
     * @param bucketSeconds the width of one point of the series
     * @param queues        every queue that has jobs, as {@code GET /v1/queues} lists them
     * @param ended         jobs ended per bucket over all queues, oldest first
     * @param endedByQueue  the same per queue, for the queues with an end in the window
     */
    record Stats(Instant at, long bucketSeconds, List<QueueStats> queues, List<Throughput.Bucket> ended,
            Map<String, List<Throughput.Bucket>> endedByQueue) {
    }

    private record Counts(Instant at, List<QueueStats> queues) {
    }

    private final QueueCounts counts;
    private final Throughput throughput;
    private final DashboardProperties properties;
    private final Clock clock;
    private final JsonAnswers answers;
    private final ReentrantLock reading = new ReentrantLock();
    private volatile Counts cached;

    StatsController(QueueCounts counts, Throughput throughput, DashboardProperties properties, Clock clock,
            JsonAnswers answers) {
        this.answers = answers;
        this.counts = counts;
        this.throughput = throughput;
        this.properties = properties;
        this.clock = clock;
    }

    /** JSON whatever the request accepts ({@link JsonAnswers}): Spring MVC answered YAML when asked. */
    @GetMapping("/v1/stats")
    void stats(HttpServletResponse response) throws IOException {
        var queues = queues();
        var series = throughput.series();
        answers.write(response, HttpStatus.OK, new Stats(queues.at(), properties.bucket().toSeconds(),
                queues.queues(), series.total(), series.byQueue()));
    }

    /** The counters, read again only when the cached read is older than {@code cache-for}; one reader at a time. */
    private Counts queues() {
        var current = cached;
        if (fresh(current)) {
            return current;
        }
        reading.lock();
        try {
            current = cached;
            if (fresh(current)) {
                return current; // another viewer read them while this one waited
            }
            var read = new Counts(clock.instant().truncatedTo(ChronoUnit.MILLIS), counts.all());
            cached = read;
            return read;
        } finally {
            reading.unlock();
        }
    }

    private boolean fresh(Counts counts) {
        return counts != null && clock.instant().isBefore(counts.at().plus(properties.cacheFor()));
    }
}
