package dev.conveyor.common;

import java.time.Duration;

/** Stopping background loops without hanging a shutdown. */
public final class Threads {

    private Threads() {
    }

    /**
     * Waits up to {@code patience} for a loop that was told to stop, then interrupts it (which, for a virtual
     * thread in socket I/O, closes that socket) and waits briefly once more.
     */
    public static void joinOrInterrupt(Thread thread, Duration patience) {
        if (thread == null) {
            return;
        }
        try {
            if (!thread.join(patience)) {
                thread.interrupt();
                thread.join(Duration.ofSeconds(1));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
