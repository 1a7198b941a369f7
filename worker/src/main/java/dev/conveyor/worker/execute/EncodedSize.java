package dev.conveyor.worker.execute;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Where a result is encoded to learn its size: it counts the bytes and keeps none, and stops the encoding once past
 * the limit. Encoded whole into an array, a handler's result of a few hundred million characters took more than the
 * worker's heap before its size could be refused, and no outcome was sent.
 */
final class EncodedSize extends OutputStream {

    /** Most causes followed: an encoding stopped here is wrapped once or twice. */
    private static final int MAX_CAUSES = 100;

    private final long limit;
    private long bytes;

    EncodedSize(long limit) {
        this.limit = limit;
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
        count(1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        count(len);
    }

    private void count(int written) throws IOException {
        bytes += written;
        if (bytes > limit) {
            throw new Over();
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
