package dev.conveyor.local;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;

/**
 * {@code java -jar conveyor-local.jar}: runs PostgreSQL, Kafka, one api and N workers on this machine
 * until Ctrl-C.
 */
public final class LocalMain {

    private static final String LAUNCHER_LOGGING = "conveyor-local-logback.xml";

    private LocalMain() {
    }

    public static void main(String[] args) throws Exception {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", LAUNCHER_LOGGING);
        }
        LocalOptions options;
        try {
            options = LocalOptions.parse(args);
        } catch (LocalOptions.InvalidOptionException e) {
            System.err.println("conveyor-local: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (options.help()) {
            System.out.print(LocalOptions.HELP);
            return;
        }
        var self = JavaLauncher.current();
        if (LauncherCopy.wanted(self)) {
            var code = LauncherCopy.run(self, LocalMain.class.getName(), options.home(), java.util.List.of(args),
                    System.out);
            if (code.isPresent()) {
                System.exit(code.get());
                return;
            }
        }
        System.exit(run(options, System.out));
    }

    /** Runs until stopped; answers the process exit code. */
    static int run(LocalOptions options, PrintStream out) throws Exception {
        try {
            return runInHome(options, out);
        } catch (IOException e) {
            // A home that cannot be made or written (a read-only or full disk, a file in the way): say which and
            // why, not a stack trace.
            out.println("conveyor-local: cannot use " + options.home().toAbsolutePath() + " as its home ("
                    + LocalHome.problem(e) + "); choose another with --home=DIR");
            return 1;
        }
    }

    private static int runInHome(LocalOptions options, PrintStream out) throws Exception {
        var refused = LocalHome.claim(options.home());
        if (refused.isPresent()) {
            out.println("conveyor-local: " + refused.get());
            return 1;
        }
        try (var channel = FileChannel.open(options.home().resolve("lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); var lock = channel.tryLock()) {
            if (lock == null) {
                out.println("conveyor-local: another conveyor-local is running with " + options.home().toAbsolutePath()
                        + "; stop it, or use --home=DIR");
                return 1;
            }
            LauncherCopy.deleteOthers(options.home(), System.getProperty("java.class.path"));
            var leftovers = new Leftovers(options.home());
            leftovers.stopAll(out);
            var ports = new ArrayList<Integer>();
            for (var n = 1; n <= options.apis(); n++) {
                ports.add(options.apiPort(n));
            }
            try (var claims = PortClaims.claim(PortClaims.DIRECTORY, ports)) {
                if (claims.taken().isPresent()) {
                    out.println("conveyor-local: port " + claims.taken().get() + " is taken by another conveyor-local; "
                            + "choose another with --port=N");
                    return 1;
                }
                for (var port : ports) {
                    if (!portFree(port)) {
                        out.println("conveyor-local: port " + port + " is in use; choose another with --port=N");
                        return 1;
                    }
                }
                return runLocked(options, out, leftovers, claims);
            }
        }
    }

    private static int runLocked(LocalOptions options, PrintStream out, Leftovers leftovers, PortClaims claims)
            throws Exception {
        FileTrees.delete(options.logs());
        Files.createDirectories(options.logs());
        out.println("Conveyor local: logs in " + options.logs().toAbsolutePath());
        var system = new LocalSystem(options, JavaLauncher.current(), out);
        // The claims are let go (their files deleted) by the hook too: on Ctrl-C, the JVM ends as soon as the hook
        // has, whatever this thread was doing.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            system.stop();
            claims.close();
        }, "conveyor-local-stop"));
        try {
            system.start();
        } catch (RuntimeException e) {
            if (!system.stopping()) {
                // (a start that a Ctrl-C ended did not fail: the stop says what it stops)
                out.println();
                out.println("conveyor-local: " + e.getMessage());
            }
            system.stop();
            return 1;
        }
        system.record(leftovers);
        printSummary(system, options, out);
        system.awaitStopped();
        return 0;
    }

    private static void printSummary(LocalSystem system, LocalOptions options, PrintStream out) {
        var base = "localhost:" + options.port();
        out.println();
        out.println("Conveyor is running: http://" + base + "  (health: " + system.healthUri() + ")");
        system.apiUris().stream().skip(1).forEach(api -> out.println("  and another api at " + api));
        var pids = system.processes();
        if (system.postgresEmbedded()) {
            out.printf("  %-10s pid %-7s %-11s log %s%n", "postgres", pids.containsKey("postgres") ? pids.get("postgres") : "-",
                    "port " + system.postgresPort(), system.log("postgres"));
        }
        for (var child : system.children()) {
            // Kafka's clients need its address (kcat, kafka-console-consumer): its port, like PostgreSQL's
            var port = child.name().equals("kafka") ? system.kafkaBootstrap().replaceFirst(".*:", "") : "";
            out.printf("  %-10s pid %-7s %-11s log %s%n", child.name(), child.pid(),
                    port.isEmpty() ? "" : "port " + port, child.logFile());
        }
        out.println();
        out.println("Try it:");
        out.println("  curl -s -X POST " + base + "/v1/jobs -H 'Content-Type: application/json' \\");
        out.println("       -d '{\"type\":\"echo\",\"payload\":{\"hello\":\"world\"}}'");
        out.println("  curl -s \"" + base + "/v1/jobs/<id>?wait=30\"");
        out.println();
        out.println("Press Ctrl-C to stop everything.");
    }

    private static boolean portFree(int port) {
        try (var socket = new ServerSocket(port, 1, InetAddress.getByName("0.0.0.0"))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
