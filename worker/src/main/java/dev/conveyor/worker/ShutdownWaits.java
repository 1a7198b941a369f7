package dev.conveyor.worker;

import java.time.Duration;

/**
 * How long a stopping worker waits for Kafka, step by step, so that the whole stop fits in an orchestrator's grace
 * period (our example Deployment gives {@code shutdown-grace} plus 15 s) even when Kafka hangs. With a reachable
 * broker each step takes milliseconds; the bounds matter only when it does not answer, and then nothing a longer
 * wait could save is lost by a shorter one: records not started come back to other workers when their lock ends,
 * and the attempts that were running (their hand-backs or outcomes unsent) are rescued by the api once the worker
 * is silent, so they run again. Kafka's own defaults (30 s for each client's close) and the waits before these added
 * up to 50.7 s for an idle worker and 55 s for a busy one past its grace, beyond that period, where the process is
 * killed in the middle of its stop.
 *
 * <p>In the order they are spent: the share consumers close while the running jobs have their grace (in parallel
 * with it); after the grace, the hand-backs of the jobs interrupted, the tombstone, the cancellations consumer and
 * the producer. Those four add up to 13 s.
 */
public final class ShutdownWaits {

    /** A share consumer's close: its last acknowledgements (records released) and leaving the group. */
    public static final Duration CONSUMER_CLOSE = Duration.ofSeconds(5);
    /** The jobs interrupted at the end of the grace, to send their hand-backs. */
    public static final Duration HAND_BACKS = Duration.ofSeconds(5);
    /** The tombstone that tells the api instances this worker stopped (or they drop it when it goes stale). */
    public static final Duration TOMBSTONE = Duration.ofSeconds(2);
    /** The cancellations consumer's close: it has no group and nothing to commit. */
    public static final Duration CANCELLATIONS_CLOSE = Duration.ofSeconds(1);
    /** The producer's close: what it still holds (outcomes, hand-backs, heartbeats) is sent meanwhile if it can be. */
    public static final Duration PRODUCER_CLOSE = Duration.ofSeconds(5);

    private ShutdownWaits() {
    }
}
