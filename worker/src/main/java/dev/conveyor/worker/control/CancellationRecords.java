package dev.conveyor.worker.control;

import dev.conveyor.common.Json;
import dev.conveyor.common.log.LogInterval;
import dev.conveyor.common.log.LogText;
import dev.conveyor.common.message.CancelJob;
import dev.conveyor.worker.execute.RunningAttempts;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the records of a poll of {@code conveyor.control}, each on its own, so that whatever one throws, the others
 * are applied. A record that cannot be read is skipped, logged: whatever it throws, even an {@code Error} (one that
 * overflows the stack stopped the worker's start for as long as it was kept, a week, or ended the listening for
 * good; any other lost the rest of its poll). The JVM's own failures ({@link VirtualMachineError}s but the stack's:
 * the heap ran out) are not the record's, which is at most a broker's largest record of JSON, read within Jackson's
 * limits: that record is not skipped but {@link Unapplied}, for the reader to read it again or to stop.
 */
final class CancellationRecords {

    /** The listener's lines, under the name operators know them by. */
    private static final Logger log = LoggerFactory.getLogger(CancellationListener.class);

    private final RunningAttempts attempts;
    private final LogInterval unreadable;

    /** {@code loggedEvery}: how often a line about an unreadable record is logged at most. */
    CancellationRecords(RunningAttempts attempts, Duration loggedEvery) {
        this.attempts = attempts;
        this.unreadable = new LogInterval(loggedEvery);
    }

    /**
     * Records the JVM could not apply: where the first was, its error, and per partition the offset to read again
     * from (the records after it are applied again too, which changes nothing).
     */
    record Unapplied(String at, VirtualMachineError error, Map<TopicPartition, Long> readAgain) {
    }

    /** Applies the records; answers those the JVM could not apply, or null when there are none. */
    Unapplied apply(ConsumerRecords<String, String> records) {
        Unapplied unapplied = null;
        for (var record : records) {
            try {
                var cancel = Json.read(record.value(), CancelJob.class);
                if (cancel == null || cancel.v() != CancelJob.VERSION || cancel.jobId() == null
                        || cancel.generation() < 0) {
                    throw new IllegalArgumentException("not a version " + CancelJob.VERSION
                            + " cancellation with a jobId and a generation of 0 or more");
                }
                attempts.cancel(cancel.jobId(), cancel.generation(), madeAt(record.timestamp()));
            } catch (StackOverflowError e) {
                skip(record, "it overflowed the stack");
            } catch (VirtualMachineError e) {
                if (unapplied == null) {
                    unapplied = new Unapplied(at(record), e, new HashMap<>());
                }
                unapplied.readAgain().putIfAbsent(new TopicPartition(record.topic(), record.partition()),
                        record.offset());
            } catch (RuntimeException e) {
                skip(record, e.getMessage());
            } catch (Error e) {
                skip(record, e.toString());
            }
        }
        return unapplied;
    }

    /** Logs a record skipped; the reader's words quote the record, which is anyone's to write (line breaks, escapes). */
    private void skip(ConsumerRecord<String, String> record, String why) {
        var heldBack = unreadable.pass();
        if (heldBack >= 0) {
            log.error("Skipping an unreadable cancellation at {}: {}{}", at(record), LogText.of(why, 500),
                    LogInterval.heldBack(heldBack));
        }
    }

    private static String at(ConsumerRecord<String, String> record) {
        return record.topic() + "-" + record.partition() + "@" + record.offset();
    }

    /**
     * When a cancellation was made: its record's time (so that the week it is remembered counts from then, not from
     * this worker's start), never later than now; now for a record without one.
     */
    private static Instant madeAt(long timestamp) {
        var now = Instant.now();
        return timestamp < 0 || timestamp > now.toEpochMilli() ? now : Instant.ofEpochMilli(timestamp);
    }
}
