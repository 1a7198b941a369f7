package dev.conveyor.local;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CountDownLatch;

/**
 * A child process for the tests that holds a file lock, as a running launcher holds its home's; {@code shared} as a
 * second argument takes a shared lock, as a launcher claiming its ports holds the guard of their lock files.
 */
final class LockHolder {

    private LockHolder() {
    }

    public static void main(String[] args) throws Exception {
        var shared = args.length > 1 && args[1].equals("shared");
        try (var channel = FileChannel.open(Path.of(args[0]), StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE); var lock = channel.lock(0, Long.MAX_VALUE, shared)) {
            System.out.println("locked " + lock.isValid());
            new CountDownLatch(1).await();
        }
    }
}
