package dev.conveyor.common;

import java.math.BigDecimal;
import java.util.regex.Pattern;

/**
 * What a job may be, as the api checks a submission (docs/api.md) and a worker checks the record it reads: in one
 * place, so that the two cannot drift apart, and a worker refuses exactly the records no api would write.
 */
public final class JobLimits {

    /** A job type's text. */
    public static final String TYPE_PATTERN = "[a-z0-9][a-z0-9._-]{0,99}";
    public static final Pattern TYPE = Pattern.compile(TYPE_PATTERN);
    /** A queue's name (a tenant's too). */
    public static final String QUEUE_PATTERN = "[a-z0-9][a-z0-9_-]{0,63}";
    public static final Pattern QUEUE = Pattern.compile(QUEUE_PATTERN);
    /** Longest {@code timeoutSeconds} of an attempt: a day. */
    public static final int MAX_TIMEOUT_SECONDS = 86_400;
    /** Most {@code maxAttempts} a submission may ask for (a retry raises a job's beyond it). */
    public static final int MAX_ATTEMPTS = 100;
    /** Longest {@code delaySeconds} of a submission: a year. */
    public static final int MAX_DELAY_SECONDS = 31_536_000;
    /** Longest idempotency key, in characters. */
    public static final int MAX_IDEMPOTENCY_KEY = 255;
    /** Most jobs in one {@code POST /v1/jobs/batch}. */
    public static final int MAX_BATCH = 1000;
    /**
     * The deepest nesting of a payload (the payload itself is level 1). The api reads JSON up to 500 levels, and its
     * answers wrap a payload in up to three more ({@code GET /v1/jobs}: an object, its {@code jobs} array, the job),
     * which Jackson, like many JSON libraries, would refuse to write, or a client to read, past 500.
     */
    public static final int MAX_PAYLOAD_DEPTH = 480;
    /**
     * Most hand-backs of one job of each kind that the api bounds: running attempts that stopping workers gave back
     * (not charged to {@code maxAttempts}), and dispatches that workers without the job's handler gave back; past them
     * the job fails. A job given back unstarted for want of room, or by a stopping worker on its record's last
     * delivery, is dispatched again under the same attempt, without bound.
     */
    public static final int MAX_HAND_BACKS = 20;
    /**
     * How far a dispatched attempt may be above its {@code maxAttempts}. The api dispatches a job only while the
     * attempts it charged are fewer than {@code maxAttempts}; those it does not charge are at most
     * {@link #MAX_HAND_BACKS} running attempts handed back by stopping workers (a job given back unstarted keeps its
     * attempt) and the attempts lost with a worker, fewer than {@code conveyor.api.retry.max-lost-attempts} (3 by
     * default): 22 above. This
     * leaves room for a {@code max-lost-attempts} of up to {@link #MAX_LOST_ATTEMPTS}. A worker refuses a record beyond it, as no api's: the
     * attempt it claims would win over the one running (a later attempt means the api gave the earlier one up), and
     * an attempt of 2147483647 written to a jobs topic stopped the job's real attempt and kept its later ones from
     * running.
     */
    public static final int MAX_ATTEMPTS_UNCHARGED = 120;
    /** The largest {@code conveyor.api.retry.max-lost-attempts}: its dispatches stay within the bound above. */
    public static final int MAX_LOST_ATTEMPTS = MAX_ATTEMPTS_UNCHARGED - MAX_HAND_BACKS - 1;
    /** The largest number with a fraction or an exponent in a payload: a double's, which most JSON readers hold. */
    public static final BigDecimal LARGEST_NUMBER = new BigDecimal(Double.MAX_VALUE);

    private JobLimits() {
    }

    /**
     * Whether a payload may hold {@code value}: within a double's range, and at most {@link JsonNumbers#MAX_CHARS}
     * characters written out in full.
     */
    public static boolean payloadNumber(BigDecimal value) {
        return value != null && value.abs().compareTo(LARGEST_NUMBER) <= 0 && JsonNumbers.storable(value);
    }
}
