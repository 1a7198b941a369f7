package dev.conveyor.local;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Runs the launcher from a copy of its jar under {@code --home}, not from {@code local/target/conveyor-local.jar}.
 *
 * <p>The build rewrites that jar in place (the jar plugin writes into the same file), and the JVM and Spring Boot's
 * loader keep reading it through the central directory they read at the start: a class or resource first needed
 * later (a worker started again, an error logged during the stop) then came from bytes that were no longer there
 * (EOFException, NoClassDefFoundError), and a {@code ./mvnw verify} while {@code local} ran broke its stop. Loading
 * ahead what a stop might need cannot be complete (the libraries' error paths load classes too); a copy that no build
 * touches is. The copy is named after the jar's size and time, made once per build (to a temporary name, then
 * moved), and the launcher that holds the home's lock deletes the copies of other builds.
 *
 * <p>The JVM started from the jar stays, as a small parent: it passes a SIGTERM on and waits for the launcher's stop,
 * and ends with its exit code; the launcher ({@link Tether}) stops everything as on SIGTERM when that parent is gone
 * (a SIGKILL). A Ctrl-C reaches both (they share the terminal's process group).
 */
final class LauncherCopy {

    /** Set on the launcher that runs from the copy, so that it does not copy itself again. */
    static final String RELAUNCHED = "conveyor.local.relaunched";
    /** Where the copies go, under the home. */
    static final String DIRECTORY = "launcher";

    private LauncherCopy() {
    }

    /** Whether this JVM should run the launcher from a copy: it runs from the repackaged jar, not from a copy. */
    static boolean wanted(JavaLauncher self) {
        return self.repackagedJar() && !Boolean.getBoolean(RELAUNCHED);
    }

    /**
     * Copies {@code self}'s jar under {@code home}, runs {@code mainClass} with {@code args} from the copy, and answers
     * its exit code once it has ended; empty, having done nothing, when the home is not {@code local}'s (the caller
     * then says why) or when the jar cannot be copied (said on {@code out}): the caller then runs in this JVM.
     */
    static Optional<Integer> run(JavaLauncher self, String mainClass, Path home, List<String> args, PrintStream out)
            throws InterruptedException {
        Path copy;
        try {
            if (LocalHome.claim(home).isPresent()) {
                return Optional.empty();
            }
            copy = copy(Path.of(self.classPath()), home);
        } catch (IOException e) {
            // (the file a failed copy names may be the jar or the copy: the reason alone says what went wrong)
            var why = e instanceof java.nio.file.FileSystemException failed && failed.getReason() != null
                    ? failed.getReason() : LocalHome.problem(e);
            out.println("(running from " + self.classPath() + " itself, which a rebuild while local runs breaks: "
                    + "cannot copy it to " + home.resolve(DIRECTORY).toAbsolutePath() + ": " + why + ")");
            return Optional.empty();
        }
        var command = new JavaLauncher(self.java(), copy.toString(), self.repackagedJar())
                .command(mainClass, jvmOptions(), args);
        Process launcher;
        try {
            launcher = new ProcessBuilder(command).inheritIO().start();
        } catch (IOException e) {
            out.println("(running from " + self.classPath() + " itself: cannot start " + copy + ": " + e.getMessage()
                    + ")");
            return Optional.empty();
        }
        // Everything this JVM does from here on is in this class and the JDK, loaded by now: it reads nothing more
        // from the jar, which the next build rewrites.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> passStop(launcher), "conveyor-local-pass-stop"));
        return Optional.of(launcher.waitFor());
    }

    /** A SIGTERM (or Ctrl-C) to this JVM: the launcher stops everything, and this JVM ends once it has. */
    private static void passStop(Process launcher) {
        launcher.destroy();
        try {
            launcher.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The copy of {@code jar} under {@code home}, made unless it is there already. */
    static Path copy(Path jar, Path home) throws IOException {
        var directory = home.resolve(DIRECTORY).toAbsolutePath().normalize();
        var copy = directory.resolve(Files.size(jar) + "-" + Files.getLastModifiedTime(jar).toMillis() + ".jar");
        if (Files.isRegularFile(copy)) {
            return copy;
        }
        Files.createDirectories(directory);
        var partial = directory.resolve(copy.getFileName() + "." + ProcessHandle.current().pid() + ".partial");
        try {
            // with its time: WarmStart names the extraction and the AOT cache after the copy's size and time
            Files.copy(jar, partial, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
            Files.move(partial, copy, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(partial); // a copy cut short (a full disk) is not left to fill it
        }
        return copy;
    }

    /**
     * Deletes the copies of other builds under {@code home}, keeping {@code running}'s; called under the home's lock
     * (no other launcher runs from one of them then). Nothing when the launcher does not run from a copy.
     */
    static void deleteOthers(Path home, String running) {
        var directory = home.resolve(DIRECTORY).toAbsolutePath().normalize();
        var keep = Path.of(running).toAbsolutePath().normalize();
        if (!Boolean.getBoolean(RELAUNCHED) || !directory.equals(keep.getParent())) {
            return;
        }
        try (var copies = Files.list(directory)) {
            for (var other : copies.filter(path -> !path.equals(keep)).toList()) {
                Files.deleteIfExists(other);
            }
        } catch (IOException e) {
            // what stays is deleted by a later start
        }
    }

    /**
     * This JVM's options for the launcher ({@code -Dconveyor.local.cold=true}, a heap bound), and the mark that it
     * runs from the copy; not a debugger's agent, whose port this JVM holds.
     */
    private static List<String> jvmOptions() {
        var options = new ArrayList<String>();
        for (var option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!option.startsWith("-agentlib:jdwp") && !option.startsWith("-Xrunjdwp")) {
                options.add(option);
            }
        }
        options.add("-D" + RELAUNCHED + "=true");
        return options;
    }
}
