package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rebuild of {@code conveyor-local.jar} while local runs rewrites the jar its launcher runs from, in place: a class
 * that the launcher's stop loads then is gone. Here a launcher-like process ({@link RebuiltJarChild}) runs from a
 * small jar of local's classes, which is rebuilt under it before it is stopped.
 */
class LauncherCopyTest {

    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private final List<ProcessHandle> started = new ArrayList<>();

    @AfterEach
    void killWhatRuns() {
        started.forEach(process -> {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        });
    }

    @Test
    void aLauncherRunFromTheJarItselfCannotLoadAClassOnceTheJarIsRebuilt() throws Exception {
        var jar = jar(dir.resolve("conveyor-local.jar"), 0);
        var launcher = start(jar, "direct");

        rebuild(jar);
        launcher.destroy();

        await().atMost(PATIENCE).until(() -> !launcher.isAlive());
        // what local did before it ran from a copy: its stop ended half-way
        assertThat(output()).doesNotContain("stopped cleanly").contains("NoClassDefFoundError");
    }

    @Test
    void aLauncherRunFromItsCopyStopsCleanlyAfterTheJarIsRebuilt() throws Exception {
        var jar = jar(dir.resolve("conveyor-local.jar"), 0);
        var home = dir.resolve("home");
        var launcher = start(jar, "copy", home.toString());
        assertThat(output()).contains("running from " + home.resolve(LauncherCopy.DIRECTORY).toAbsolutePath());

        rebuild(jar);
        launcher.destroy(); // SIGTERM to the JVM started from the jar, as to local's

        await().atMost(PATIENCE).until(() -> !launcher.isAlive());
        assertThat(output()).contains("stopped cleanly").doesNotContain("NoClassDefFoundError");
    }

    @Test
    void aLauncherRunFromItsCopyStopsWhenTheJvmStartedFromTheJarIsKilled() throws Exception {
        var jar = jar(dir.resolve("conveyor-local.jar"), 0);
        var launcher = start(jar, "copy", dir.resolve("home").toString());
        var copy = launcher.children().findFirst().orElseThrow();
        started.add(copy);

        rebuild(jar);
        launcher.destroyForcibly(); // SIGKILL: no hook passes the stop on

        await().atMost(PATIENCE).until(() -> !copy.isAlive());
        assertThat(output()).contains("is gone: stopping", "stopped cleanly");
    }

    @Test
    void aCopyIsMadeOncePerBuildAndTheLauncherHoldingTheHomeDeletesOtherBuildsCopies() throws Exception {
        var jar = jar(dir.resolve("conveyor-local.jar"), 0);
        var home = dir.resolve("home");
        var first = LauncherCopy.copy(jar, home);
        assertThat(LauncherCopy.copy(jar, home)).isEqualTo(first);
        assertThat(first).hasSameBinaryContentAs(jar);
        assertThat(Files.getLastModifiedTime(first)).isEqualTo(Files.getLastModifiedTime(jar));

        rebuild(jar);
        var second = LauncherCopy.copy(jar, home);
        assertThat(second).isNotEqualTo(first).hasSameBinaryContentAs(jar);
        System.setProperty(LauncherCopy.RELAUNCHED, "true");
        try {
            LauncherCopy.deleteOthers(home, second.toString());
        } finally {
            System.clearProperty(LauncherCopy.RELAUNCHED);
        }
        try (var copies = Files.list(home.resolve(LauncherCopy.DIRECTORY))) {
            assertThat(copies.toList()).containsExactly(second);
        }
    }

    @Test
    void runsInPlaceSayingWhyWhenTheJarCannotBeCopied() throws Exception {
        var output = new java.io.ByteArrayOutputStream();
        var missing = new JavaLauncher(JavaLauncher.current().java(), dir.resolve("gone.jar").toString(), true);

        var code = LauncherCopy.run(missing, RebuiltJarChild.class.getName(), dir.resolve("home"), List.of(),
                new java.io.PrintStream(output, true, java.nio.charset.StandardCharsets.UTF_8));

        assertThat(code).isEmpty();
        assertThat(output.toString(java.nio.charset.StandardCharsets.UTF_8)).contains("(running from "
                + dir.resolve("gone.jar") + " itself, which a rebuild while local runs breaks: cannot copy it to "
                + dir.resolve("home/launcher").toAbsolutePath() + ": ", "no such file");
    }

    private ProcessHandle start(Path jar, String... args) throws IOException {
        var command = new ArrayList<>(List.of(JavaLauncher.current().java().toString(), "-cp", jar.toString(),
                RebuiltJarChild.class.getName()));
        command.addAll(List.of(args));
        var process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("output.txt").toFile()).start();
        started.add(process.toHandle());
        await().atMost(PATIENCE).until(() -> output().contains("running from"));
        return process.toHandle();
    }

    private String output() throws IOException {
        var output = dir.resolve("output.txt");
        return Files.exists(output) ? Files.readString(output) : "";
    }

    /**
     * Rewrites the jar in the same file, as the jar plugin does: the same classes, moved by an entry before them (a
     * rebuild moves them by any change before them). Its time moves on, as a rebuild's does.
     */
    private static void rebuild(Path jar) throws IOException {
        var time = Files.getLastModifiedTime(jar).toMillis();
        var rebuilt = jar(jar.resolveSibling("rebuilt.jar"), 4096);
        try (OutputStream out = Files.newOutputStream(jar)) { // truncates and rewrites the same file
            Files.copy(rebuilt, out);
        }
        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(time + 2000));
    }

    /** A jar of local's classes and this test's (a filler entry of {@code filler} bytes first). */
    private static Path jar(Path jar, int filler) throws IOException {
        try (var out = new JarOutputStream(Files.newOutputStream(jar))) {
            if (filler > 0) {
                out.putNextEntry(new JarEntry("filler"));
                out.write(new byte[filler]);
                out.closeEntry();
            }
            for (var classes : List.of(classesOf(Tether.class), classesOf(RebuiltJarChild.class))) {
                try (var files = Files.walk(classes.resolve("dev/conveyor/local"), 1)) {
                    for (var file : files.filter(Files::isRegularFile).sorted().toList()) {
                        out.putNextEntry(new JarEntry(classes.relativize(file).toString()));
                        out.write(Files.readAllBytes(file));
                        out.closeEntry();
                    }
                }
            }
        }
        return jar;
    }

    private static Path classesOf(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
