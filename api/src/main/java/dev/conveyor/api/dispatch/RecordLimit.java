package dev.conveyor.api.dispatch;

import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Whether the largest payload the api accepts fits in a record its producer may send. The record carries the payload
 * as PostgreSQL writes it back (up to half as long again as submitted: {@code [1,2]} comes back {@code [1, 2]}) and
 * the job's other fields; a record over the producer's {@code max.request.size} is refused for ever, so a setting that
 * lets one in is refused at start instead of failing such jobs ({@link RefusedRecords}). The broker's own limit
 * ({@code message.max.bytes}) is not known here: what it refuses fails as {@code RECORD_TOO_LARGE}.
 */
final class RecordLimit {

    static final String MAX_REQUEST_SIZE = "spring.kafka.producer.properties." + ProducerConfig.MAX_REQUEST_SIZE_CONFIG;
    private static final long DEFAULT_MAX_REQUEST_SIZE = 1_048_576;
    /** The job's fields besides its payload (type, queue, idempotency key, trace context) and the record's framing. */
    private static final long ENVELOPE = 65_536;

    private RecordLimit() {
    }

    /** The largest record a job of {@code maxPayloadBytes} may need. */
    static long largestRecord(int maxPayloadBytes) {
        return maxPayloadBytes * 3L / 2 + ENVELOPE;
    }

    /**
     * Fails naming both properties when a payload the api accepts could make a record over the producer's limit.
     *
     * @param producer the producer's configuration (Kafka's names, values as configured)
     */
    static void check(Map<String, Object> producer, int maxPayloadBytes) {
        var configured = producer.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        long limit;
        try {
            limit = configured == null ? DEFAULT_MAX_REQUEST_SIZE
                    : configured instanceof Number number ? number.longValue()
                    : Long.parseLong(configured.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(MAX_REQUEST_SIZE + " must be a number of bytes, not '" + configured
                    + "'", e);
        }
        var needed = largestRecord(maxPayloadBytes);
        if (needed > limit) {
            throw new IllegalArgumentException("conveyor.api.max-payload-bytes (" + maxPayloadBytes + ") lets in jobs "
                    + "whose record may take " + needed + " bytes (the payload as PostgreSQL writes it back, up to "
                    + "half as long again, and 64 KiB for the rest), over " + MAX_REQUEST_SIZE + " (" + limit
                    + "): Kafka would refuse them for ever. Raise " + MAX_REQUEST_SIZE + " to at least " + needed
                    + " (and the broker's message.max.bytes with it), or lower conveyor.api.max-payload-bytes.");
        }
    }
}
