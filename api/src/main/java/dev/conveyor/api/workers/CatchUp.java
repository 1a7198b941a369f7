package dev.conveyor.api.workers;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;

/**
 * Whether a reader has read everything that was on its partitions at some moment, and which moment.
 *
 * <p>It asks the broker for the partitions' end offsets, notes when it asked, and answers once the reader's
 * positions have reached those ends, possibly after further polls. Asking for the ends after a poll and comparing
 * them with the positions at once would race with every record appended in between: on a busy topic (a heartbeat
 * from each of many workers every second) that check can fail for seconds on end, though the reader is never more
 * than one poll behind.
 *
 * <p>Not thread-safe: the reader's thread calls it after each poll.
 */
final class CatchUp {

    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(2);

    private final Clock clock;
    private final Duration interval;
    private final Duration giveUpAfter;
    private Map<TopicPartition, Long> ends;
    private Instant endsAsOf;
    private long askedAt;
    private boolean asked;

    /**
     * @param interval    how often to ask for the ends
     * @param giveUpAfter how long to wait for the positions to reach ends asked for, before asking again
     */
    CatchUp(Clock clock, Duration interval, Duration giveUpAfter) {
        this.clock = clock;
        this.interval = interval;
        this.giveUpAfter = giveUpAfter;
    }

    /**
     * Called after each poll: the moment as of which everything on the partitions has been read, if the positions
     * have just reached the ends asked for then.
     */
    Optional<Instant> check(Consumer<?, ?> consumer, List<TopicPartition> partitions) {
        try {
            if (ends != null && reached(consumer, partitions)) {
                ends = null;
                return Optional.of(endsAsOf);
            }
            var sinceAsked = Duration.ofNanos(System.nanoTime() - askedAt);
            if (!asked || sinceAsked.compareTo(ends == null ? interval : giveUpAfter) >= 0) {
                asked = true;
                askedAt = System.nanoTime();
                ends = null;
                var asOf = clock.instant();
                ends = consumer.endOffsets(partitions, REQUEST_TIMEOUT);
                endsAsOf = asOf;
                if (reached(consumer, partitions)) {
                    ends = null;
                    return Optional.of(asOf);
                }
            }
        } catch (TimeoutException e) {
            // Kafka is unreachable: nothing is known, and the evidence ages
        }
        return Optional.empty();
    }

    private boolean reached(Consumer<?, ?> consumer, List<TopicPartition> partitions) {
        for (var partition : partitions) {
            var end = ends.get(partition);
            if (end == null || consumer.position(partition, REQUEST_TIMEOUT) < end) {
                return false;
            }
        }
        return true;
    }
}
