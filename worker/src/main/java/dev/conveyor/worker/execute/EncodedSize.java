package dev.conveyor.worker.execute;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Where a result is encoded to learn its size: it counts the bytes and keeps no more than the limit, and stops the
 * encoding once past it. Encoded whole into an array, a handler's result of a few hundred million characters took
 * more than the worker's heap before its size could be refused, and no outcome was sent.
 */
final class EncodedSize extends OutputStream {

    /** Most causes followed: an encoding stopped here is wrapped once or twice. */
    private static final int MAX_CAUSES = 100;

    private final long limit;
    private long bytes;
    /** The bytes written, when kept (never more than the limit); null when only counted. */
    private byte[] kept;

    EncodedSize(long limit) {
        this(limit, false);
    }

    /** @param keep whether to keep what is written, for {@link #text()} */
    EncodedSize(long limit, boolean keep) {
        this.limit = limit;
        this.kept = keep ? new byte[(int) Math.min(limit, 256)] : null;
    }

    /** What was written, as UTF-8 text: only when kept, and not over the limit. */
    String text() {
        return new String(kept, 0, (int) bytes, StandardCharsets.UTF_8);
    }

    /** Bytes written so far. */
    long bytes() {
        return bytes;
    }

    /** Whether more than the limit was written (the encoding was then stopped). */
    boolean isOver() {
        return bytes > limit;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        var start = bytes;
        bytes += len;
        if (bytes > limit) {
            throw new Over();
        }
        if (kept != null) {
            if (bytes > kept.length) {
                kept = Arrays.copyOf(kept, (int) Math.min(limit, Math.max(bytes, 2L * kept.length)));
            }
            System.arraycopy(b, off, kept, (int) start, len);
        }
    }

    /**
     * Whether {@code e} is the encoder giving up because the limit was passed. It may be the handler's own exception
     * (thrown by a node of its result), whose causes may lead back to each other: the walk looked for an end forever.
     */
    static boolean stopped(Throwable e) {
        var cause = e;
        for (var steps = 0; cause != null && steps < MAX_CAUSES; steps++, cause = cause.getCause()) {
            if (cause instanceof Over) {
                return true;
            }
        }
        return false;
    }

    private static final class Over extends IOException {
        Over() {
            super("past the limit");
        }
    }
}
