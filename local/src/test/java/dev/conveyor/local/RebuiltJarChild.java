package dev.conveyor.local;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * A launcher-like process for {@link LauncherCopyTest}: {@code direct} runs from the jar it is started from,
 * {@code copy HOME} from a copy of it under HOME ({@link LauncherCopy}); either way it waits to be stopped, and its stop
 * loads a class first needed then, as local's stop can.
 */
final class RebuiltJarChild {

    private RebuiltJarChild() {
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("copy") && !Boolean.getBoolean(LauncherCopy.RELAUNCHED)) {
            var code = LauncherCopy.run(JavaLauncher.current(), RebuiltJarChild.class.getName(), Path.of(args[1]),
                    List.of(args), System.out);
            System.exit(code.orElseThrow());
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println(new FirstNeededOnStop().message())));
        System.out.println("running from " + System.getProperty("java.class.path"));
        System.out.flush();
        new CountDownLatch(1).await();
    }

    /** Not loaded before the stop. */
    static final class FirstNeededOnStop {
        String message() {
            return "stopped cleanly";
        }
    }
}
