package dev.conveyor.local;

import java.lang.reflect.InvocationTargetException;
import java.util.Arrays;

/**
 * The main class of every JVM that {@code local} starts: runs the real main class (its first argument) and ends the
 * JVM, with its shutdown hooks as a SIGTERM would, once the launcher that started it has ended. Each child runs in a
 * session of its own, so that a Ctrl-C reaches only the launcher; a launcher killed with SIGKILL left its broker, api
 * and workers running with nothing to stop them.
 */
public final class Tether {

    /** The system property that names the launcher's pid. */
    static final String PARENT = "conveyor.local.parent";
    /** The exit code of a child whose launcher is gone: that of a SIGTERM. */
    static final int ORPHANED = 143;

    private Tether() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length == 0) {
            throw new IllegalArgumentException("usage: Tether MAIN-CLASS [ARG...]");
        }
        var parent = Long.getLong(PARENT);
        if (parent != null) {
            var launcher = ProcessHandle.of(parent);
            if (launcher.isEmpty()) {
                System.err.println("conveyor-local (pid " + parent + ") is gone before this process started");
                System.exit(ORPHANED);
            }
            launcher.get().onExit().thenRun(() -> {
                System.err.println("conveyor-local (pid " + parent + ") is gone: stopping");
                System.exit(ORPHANED);
            });
        }
        var main = Class.forName(args[0], true, Tether.class.getClassLoader()).getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
