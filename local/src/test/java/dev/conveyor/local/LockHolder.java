package dev.conveyor.local;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CountDownLatch;

/** A child process for the tests that holds a file lock, as a running launcher holds its home's. */
final class LockHolder {

    private LockHolder() {
    }

    public static void main(String[] args) throws Exception {
        try (var channel = FileChannel.open(Path.of(args[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             var lock = channel.lock()) {
            System.out.println("locked " + lock.isValid());
            new CountDownLatch(1).await();
        }
    }
}
