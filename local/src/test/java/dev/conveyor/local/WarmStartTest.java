package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WarmStartTest {

    @TempDir
    Path dir;

    @Test
    void theFirstProcessOfAKindTrainsAndTheOthersStartWithoutACache() {
        var warm = WarmStart.using(dir);

        assertThat(warm.trains("worker")).isTrue();
        assertThat(warm.options("worker", true)).containsExactly("-XX:AOTCacheOutput=" + dir.resolve("worker.aot"));
        assertThat(warm.options("worker", false)).isEmpty();
    }

    @Test
    void onceTheCacheExistsEveryProcessOfThatKindLoadsIt() throws Exception {
        Files.writeString(dir.resolve("api.aot"), "cache");
        var warm = WarmStart.using(dir);

        assertThat(warm.trains("api")).isFalse();
        assertThat(warm.options("api", true)).containsExactly("-XX:AOTCache=" + dir.resolve("api.aot"));
        assertThat(warm.options("api", false)).containsExactly("-XX:AOTCache=" + dir.resolve("api.aot"));
        assertThat(warm.trains("worker")).isTrue();
    }

    @Test
    void offAddsNothing() {
        assertThat(WarmStart.off().options("api", true)).isEmpty();
        assertThat(WarmStart.off().trains("api")).isFalse();
    }

    @Test
    void aClassPathThatIsNotTheRepackagedJarStartsCold() {
        var out = new ByteArrayOutputStream();
        var java = new JavaLauncher(Path.of("java"), dir.toString(), false);

        assertThat(WarmStart.prepare(java, dir, new PrintStream(out))).isEmpty();
        assertThat(dir.resolve("app")).doesNotExist();
    }

    /** On a disk that fills up during the extraction, what it wrote is given back, for PostgreSQL and Kafka. */
    @Test
    void aFailedExtractionStartsColdAndLeavesNothingBehind() throws Exception {
        var jar = Files.writeString(dir.resolve("conveyor-local.jar"), "a jar");
        var java = dir.resolve("java");
        Files.writeString(java, """
                #!/bin/sh
                for last; do :; done
                mkdir -p "$last" && echo 'half a jar' > "$last/conveyor-local.jar"
                exit 1
                """);
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwx------"));
        var out = new ByteArrayOutputStream();
        var home = dir.resolve("home");

        assertThat(WarmStart.prepare(new JavaLauncher(java, jar.toString(), true), home, new PrintStream(out))).isEmpty();

        assertThat(out.toString()).contains("starting cold", "extract failed");
        try (var left = Files.walk(home.resolve("app"))) {
            assertThat(left.filter(Files::isRegularFile)).isEmpty();
        }
    }
}
