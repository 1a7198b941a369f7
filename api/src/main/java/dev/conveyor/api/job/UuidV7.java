package dev.conveyor.api.job;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.UUID;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Version 7 UUIDs (RFC 9562): 48 bits of Unix milliseconds, then random bits, so ids sort by creation time.
 * Within one millisecond the 12-bit {@code rand_a} field counts up, so ids made by this process also sort in the
 * order they were made. (Hand-written: the JDK has no v7 generator yet, and this is the whole of it.)
 */
public final class UuidV7 implements Supplier<UUID> {

    private final LongSupplier millis;
    private final SecureRandom random = new SecureRandom();
    private long lastMillis;
    private int sequence;

    public UuidV7(Clock clock) {
        this(clock::millis);
    }

    /** Ids of the time {@code millis} tells, in Unix milliseconds (the api's: {@link StoreTime}). */
    public UuidV7(LongSupplier millis) {
        this.millis = millis;
    }

    @Override
    public synchronized UUID get() {
        var now = millis.getAsLong();
        if (now > lastMillis) {
            lastMillis = now;
            sequence = random.nextInt(1 << 11);
        } else if (++sequence >= 1 << 12) {
            lastMillis++;
            sequence = 0;
        }
        var high = (lastMillis << 16) | (0x7L << 12) | sequence;
        var low = (random.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
        return new UUID(high, low);
    }
}
