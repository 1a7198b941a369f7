package dev.conveyor.local;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The api ports of a launcher, claimed among all the launchers of the machine by a lock file per port in the
 * temporary directory, held until the launcher ends. Two started at once with different homes both found the port
 * free; a minute later the second took the first's api, answering on that port, for its own, printed "Conveyor is
 * running", and stopped everything once its own api had failed to bind.
 */
final class PortClaims implements AutoCloseable {

    static final Path DIRECTORY = Path.of(System.getProperty("java.io.tmpdir"));

    private final List<FileChannel> held = new ArrayList<>();
    private Integer taken;

    private PortClaims() {
    }

    /** Claims each of {@code ports} in {@code directory}, stopping at the first that another launcher holds. */
    static PortClaims claim(Path directory, List<Integer> ports) {
        var claims = new PortClaims();
        for (var port : ports) {
            FileChannel channel;
            try {
                channel = FileChannel.open(file(directory, port), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            } catch (IOException e) {
                continue; // another user's lock file, or a directory not ours to write: the port check alone, then
            }
            try {
                if (channel.tryLock() != null) {
                    claims.held.add(channel);
                    continue;
                }
            } catch (IOException | OverlappingFileLockException e) {
                // held in this JVM (OverlappingFileLockException), or not lockable: as good as taken
            }
            close(channel);
            claims.taken = port;
            break;
        }
        return claims;
    }

    static Path file(Path directory, int port) {
        return directory.resolve("conveyor-local-port-" + port + ".lock");
    }

    /** A port that another launcher holds, if any. */
    Optional<Integer> taken() {
        return Optional.ofNullable(taken);
    }

    /** Lets the ports go (the lock files stay: deleting one could let two launchers lock two files of one name). */
    @Override
    public void close() {
        held.forEach(PortClaims::close);
    }

    private static void close(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // the lock goes with the process anyway
        }
    }
}
