package dev.conveyor.api.dispatch;

import dev.conveyor.api.ApiProperties;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * How long after a job is taken its publication may still begin. A send may block for {@code max.block.ms} and
 * then stay in the producer for {@code delivery.timeout.ms} before it succeeds or fails; it must be over before
 * the job's dispatch lease ends, or the poller publishes the job again while the first record may still reach
 * Kafka (two records, two runs). So the lease must exceed both together, and what is left of it is the time within
 * which the dispatcher may start a send.
 */
final class PublishWindow {

    private static final String PREFIX = "spring.kafka.producer.properties.";
    static final String DELIVERY_TIMEOUT = PREFIX + ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG;
    static final String MAX_BLOCK = PREFIX + ProducerConfig.MAX_BLOCK_MS_CONFIG;
    private static final long DEFAULT_DELIVERY_TIMEOUT_MS = 120_000;
    private static final long DEFAULT_MAX_BLOCK_MS = 60_000;

    private final Duration sendWithin;

    private PublishWindow(Duration sendWithin) {
        this.sendWithin = sendWithin;
    }

    /**
     * Checks the producer's timeouts against the lease; fails naming the properties to change.
     *
     * @param producer the producer's configuration (Kafka's names, values as configured)
     */
    static PublishWindow of(Map<String, Object> producer, ApiProperties.Dispatch dispatch) {
        var deliveryTimeout = Duration.ofMillis(millis(producer, ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
                DEFAULT_DELIVERY_TIMEOUT_MS));
        var maxBlock = Duration.ofMillis(millis(producer, ProducerConfig.MAX_BLOCK_MS_CONFIG, DEFAULT_MAX_BLOCK_MS));
        var left = dispatch.lease().minus(deliveryTimeout).minus(maxBlock);
        if (!left.isPositive()) {
            throw new IllegalArgumentException("conveyor.api.dispatch.lease (" + dispatch.lease().toMillis()
                    + " ms) must be longer than " + DELIVERY_TIMEOUT + " (" + deliveryTimeout.toMillis() + " ms) plus "
                    + MAX_BLOCK + " (" + maxBlock.toMillis() + " ms): a job still being published when its lease "
                    + "ends is published again by the poller. Lengthen the lease or shorten those timeouts.");
        }
        return new PublishWindow(left);
    }

    /** A send begun later than this after the job was taken might still be in flight when its lease ends. */
    Duration sendWithin() {
        return sendWithin;
    }

    private static long millis(Map<String, Object> producer, String name, long fallback) {
        var value = producer.get(name);
        if (value == null) {
            return fallback;
        }
        if (value instanceof Number number) {
            return number.longValue();
        }
        try {
            return Long.parseLong(value.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(PREFIX + name
                    + " must be a number of milliseconds, not '" + value + "'", e);
        }
    }
}
