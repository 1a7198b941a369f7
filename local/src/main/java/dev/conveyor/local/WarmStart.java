package dev.conveyor.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Starts the api and the workers warm, with the JDK's AOT cache (JEPs 483, 514, 515): classes already loaded and
 * linked, and method profiles from an earlier run, so a fresh JVM reaches full speed sooner and spends less of two
 * cores compiling while it takes jobs.
 *
 * <p>The cache holds only classes loaded from plain jars on the class path, not from the jars nested in
 * {@code conveyor-local.jar}; so the jar is first extracted (Spring Boot's {@code jarmode=tools extract}) into
 * {@code <home>/app/<size>-<mtime>/}, once per build of the jar. The first run of each kind of process (api, worker)
 * trains: it records what it loads and, as it exits, writes {@code <home>/aot/<kind>.aot}, which later runs load. A
 * cache from another build is refused by the JVM (it checks the class path) and the run goes on cold.
 */
final class WarmStart {

    /** How long a process that trains may take to stop: it writes its cache as it exits. */
    static final java.time.Duration TRAINING_STOP_GRACE = java.time.Duration.ofMinutes(3);

    private final Path cacheDir;
    private final boolean enabled;

    private WarmStart(Path cacheDir, boolean enabled) {
        this.cacheDir = cacheDir;
        this.enabled = enabled;
    }

    /** The AOT caches in {@code cacheDir}, made there by the first run. */
    static WarmStart using(Path cacheDir) {
        return new WarmStart(cacheDir, true);
    }

    /** No AOT cache: the processes start cold. */
    static WarmStart off() {
        return new WarmStart(null, false);
    }

    /**
     * Extracts the repackaged jar under {@code home} (unless done before for this build) and answers the launcher
     * for the extracted jar with the cache on; answers empty, having said why on {@code out}, when that cannot be
     * done (not run from the repackaged jar, or the extraction failed): the caller then starts everything cold.
     */
    static Optional<Prepared> prepare(JavaLauncher java, Path home, PrintStream out) {
        if (!java.repackagedJar() || Boolean.getBoolean("conveyor.local.cold")) {
            return Optional.empty();
        }
        try {
            var jar = Path.of(java.classPath());
            var stamp = Files.size(jar) + "-" + Files.getLastModifiedTime(jar).toMillis();
            var appDir = home.resolve("app").resolve(stamp).toAbsolutePath().normalize();
            var extracted = appDir.resolve(jar.getFileName());
            var cache = home.resolve("aot").resolve(stamp).toAbsolutePath().normalize();
            // earlier builds' jars and caches are of no more use (hundreds of MB each)
            deleteOthers(appDir);
            deleteOthers(cache);
            if (!Files.isRegularFile(extracted)) {
                extract(java, jar, appDir);
            }
            Files.createDirectories(cache);
            return Optional.of(new Prepared(new JavaLauncher(java.java(), extracted.toString(), false),
                    using(cache)));
        } catch (IOException | RuntimeException e) {
            out.println("(starting cold: could not extract " + java.classPath() + ": " + e.getMessage() + ") ");
            return Optional.empty();
        }
    }

    /** The launcher for the extracted jar, and the cache to start its processes with. */
    record Prepared(JavaLauncher java, WarmStart warmStart) {
    }

    private static void extract(JavaLauncher java, Path jar, Path appDir) throws IOException {
        var partial = appDir.resolveSibling(appDir.getFileName() + ".partial");
        deleteTree(partial);
        var process = new ProcessBuilder(java.java().toString(), "-Djarmode=tools", "-jar", jar.toString(), "extract",
                "--destination", partial.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            if (!process.waitFor(5, TimeUnit.MINUTES) || process.exitValue() != 0) {
                process.destroyForcibly();
                throw new IOException("jarmode=tools extract failed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            deleteAfterFailure(partial);
            throw new IOException("interrupted while extracting", e);
        } catch (IOException e) {
            // An extraction cut short by a full disk kept what it had written (tens of MB, up to the last byte
            // free), and PostgreSQL's start then failed for want of space.
            deleteAfterFailure(partial);
            throw e;
        }
        // Whole or not at all: a run stopped while extracting leaves only the .partial folder, extracted again.
        deleteTree(appDir);
        Files.move(partial, appDir);
    }

    private static void deleteAfterFailure(Path partial) {
        try {
            deleteTree(partial);
        } catch (IOException | UncheckedIOException e) {
            // what is left is deleted by the next extraction
        }
    }

    private static void deleteOthers(Path keep) throws IOException {
        if (!Files.isDirectory(keep.getParent())) {
            return;
        }
        try (var siblings = Files.list(keep.getParent())) {
            for (var sibling : siblings.filter(path -> !path.equals(keep)).toList()) {
                deleteTree(sibling);
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (var path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    /**
     * JVM options for one process of a kind ({@code api}, {@code worker}): load the kind's cache if it exists;
     * otherwise, for the first process of the kind only ({@code trains}), record one as it exits.
     */
    List<String> options(String kind, boolean trains) {
        if (!enabled) {
            return List.of();
        }
        var cache = cacheDir.resolve(kind + ".aot");
        if (Files.isRegularFile(cache)) {
            return List.of("-XX:AOTCache=" + cache);
        }
        return trains ? List.of("-XX:AOTCacheOutput=" + cache) : List.of();
    }

    /** Whether a process of the kind started now records the cache (and so needs longer to stop). */
    boolean trains(String kind) {
        return enabled && !Files.isRegularFile(cacheDir.resolve(kind + ".aot"));
    }
}
