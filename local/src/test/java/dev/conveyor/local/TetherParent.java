package dev.conveyor.local;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** A launcher for {@link TetherTest}: starts a {@link TestChild} as local starts its children, prints its pid, waits. */
final class TetherParent {

    private TetherParent() {
    }

    public static void main(String[] args) throws InterruptedException {
        var child = ChildProcess.start("tethered", JavaLauncher.current().command(TestChild.class.getName(), List.of(),
                List.of("run")), Path.of(args[0]));
        System.out.println("child pid " + child.pid());
        new CountDownLatch(1).await();
    }
}
