package dev.conveyor.local;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The api ports of a launcher, claimed among all the launchers of the machine by a lock file per port in the
 * temporary directory, held until the launcher ends. Two started at once with different homes both found the port
 * free; a minute later the second took the first's api, answering on that port, for its own, printed "Conveyor is
 * running", and stopped everything once its own api had failed to bind.
 *
 * <p>A launcher deletes its lock files as it lets them go, under an exclusive lock on one more file, the guard, which
 * is never deleted; a claim opens and locks its files under a shared lock on the guard. Without it, a file deleted
 * between another launcher's opening it and its locking it would leave that launcher holding a file of no name while
 * a third made and locked a new one: two launchers holding one port. With it, no claim is between those two steps
 * while a file goes.
 */
final class PortClaims implements AutoCloseable {

    static final Path DIRECTORY = Path.of(System.getProperty("java.io.tmpdir"));
    static final String GUARD = "conveyor-local-ports.lock";
    /** How long to wait for the guard: others hold it for the moment a claim or a deletion takes. */
    static final Duration GUARD_PATIENCE = Duration.ofSeconds(5);
    private static final long GUARD_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final Path directory;
    private final Duration patience;
    private final List<Held> held = new ArrayList<>();
    private Integer taken;

    private record Held(Path file, FileChannel channel) {
    }

    private PortClaims(Path directory, Duration patience) {
        this.directory = directory;
        this.patience = patience;
    }

    /** Claims each of {@code ports} in {@code directory}, stopping at the first that another launcher holds. */
    static PortClaims claim(Path directory, List<Integer> ports) {
        return claim(directory, ports, GUARD_PATIENCE);
    }

    static PortClaims claim(Path directory, List<Integer> ports, Duration patience) {
        var claims = new PortClaims(directory, patience);
        // Without the guard (not to be had: a directory not ours to write, a launcher frozen holding it), the claim
        // goes on: a launcher deletes only under the guard, so at worst it finds a file as good as taken.
        Guarded.run(directory, true, patience, guarded -> claims.claimEach(ports));
        return claims;
    }

    private void claimEach(List<Integer> ports) {
        for (var port : ports) {
            var file = file(directory, port);
            FileChannel channel;
            try {
                channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            } catch (IOException e) {
                continue; // another user's lock file, or a directory not ours to write: the port check alone, then
            }
            try {
                if (channel.tryLock() != null) {
                    held.add(new Held(file, channel));
                    continue;
                }
            } catch (IOException | OverlappingFileLockException e) {
                // held in this JVM (OverlappingFileLockException), or not lockable: as good as taken
            }
            close(channel);
            taken = port;
            break;
        }
    }

    static Path file(Path directory, int port) {
        return directory.resolve("conveyor-local-port-" + port + ".lock");
    }

    /** A port that another launcher holds, if any. */
    Optional<Integer> taken() {
        return Optional.ofNullable(taken);
    }

    /**
     * Lets the ports go, deleting their lock files when the guard is to be had (else they stay, for the next launcher
     * to lock again); once, however often it is called.
     */
    @Override
    public synchronized void close() {
        if (held.isEmpty()) {
            return;
        }
        Guarded.run(directory, false, patience, guarded -> {
            for (var claim : held) {
                if (guarded) {
                    try {
                        Files.deleteIfExists(claim.file()); // while it is locked: a claim under way waits for it
                    } catch (IOException e) {
                        // a file that stays is locked again by the next launcher
                    }
                }
                close(claim.channel());
            }
        });
        held.clear();
    }

    private static void close(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // the lock goes with the process anyway
        }
    }

    /** The guard, held shared by claims and exclusive by deletions, in this JVM one at a time. */
    private static final class Guarded {

        /** What runs under the guard; told whether the guard is held. */
        interface Action {
            void run(boolean guarded);
        }

        private Guarded() {
        }

        /**
         * Runs {@code action} holding the guard of {@code directory} (shared or exclusive), or without it when it is
         * not to be had within {@code patience}. One at a time in this JVM: two locks on one file in one JVM throw,
         * and closing one channel of a file lets go the locks of every other channel of that file in the process.
         */
        static synchronized void run(Path directory, boolean shared, Duration patience, Action action) {
            try (var channel = open(directory.resolve(GUARD))) {
                var lock = channel == null ? null : lock(channel, shared, patience);
                try {
                    action.run(lock != null);
                } finally {
                    if (lock != null) {
                        lock.release();
                    }
                }
            } catch (IOException e) {
                // closing the guard lets it go all the same
            }
        }

        /** The guard for reading and writing (for an exclusive lock), or for reading (a shared one); null if neither. */
        private static FileChannel open(Path guard) {
            try {
                return FileChannel.open(guard, StandardOpenOption.CREATE, StandardOpenOption.READ,
                        StandardOpenOption.WRITE);
            } catch (IOException e) {
                try {
                    return FileChannel.open(guard, StandardOpenOption.READ); // another user's guard: enough to claim
                } catch (IOException again) {
                    return null;
                }
            }
        }

        private static FileLock lock(FileChannel channel, boolean shared, Duration patience) {
            var deadline = System.nanoTime() + patience.toNanos();
            while (true) {
                try {
                    var lock = channel.tryLock(0, Long.MAX_VALUE, shared);
                    if (lock != null) {
                        return lock;
                    }
                } catch (IOException | NonReadableChannelException | NonWritableChannelException e) {
                    return null;
                }
                if (System.nanoTime() - deadline > 0) {
                    return null;
                }
                LockSupport.parkNanos(GUARD_PAUSE_NANOS);
            }
        }
    }
}
