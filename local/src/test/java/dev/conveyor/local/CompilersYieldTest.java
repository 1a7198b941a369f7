package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JVM options {@code local} gives its children put the JIT compilers, and only them, at nice 19. */
class CompilersYieldTest {

    @TempDir
    Path dir;

    @Test
    void aChildJvmRunsItsCompilerThreadsAtNice19AndEveryOtherThreadAtItsParentsNice() throws IOException {
        assumeThat(Path.of("/proc/self/task")).as("Linux /proc").isDirectory();
        var ownNice = niceOf(Path.of("/proc/self/stat"));
        var command = JavaLauncher.current().command(TestChild.class.getName(), LocalSystem.COMPILERS_YIELD,
                List.of("run"));
        var child = ChildProcess.start("compilers-yield", command, dir.resolve("child.log"));
        try {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(child.logFile()).content().contains("child started"));
            var threads = threadNices(child.pid());

            assertThat(threads).containsEntry("C1 CompilerThre", 19).containsEntry("C2 CompilerThre", 19);
            assertThat(threads).containsEntry("java", ownNice).containsEntry("VM Thread", ownNice)
                    .containsEntry("Reference Handl", ownNice).containsEntry("Finalizer", ownNice);
            assertThat(child.logFile()).content().doesNotContain("Unrecognized VM option", "Improperly specified");
        } finally {
            child.stop(Duration.ofSeconds(10));
        }
    }

    /** Each thread's name as the kernel keeps it (15 characters; the main thread is "java") and its nice value. */
    private static Map<String, Integer> threadNices(long pid) throws IOException {
        var nices = new HashMap<String, Integer>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (var task : tasks.toList()) {
                var stat = Files.readString(task.resolve("stat"));
                var name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                nices.put(name, niceOf(stat));
            }
        }
        return nices;
    }

    private static int niceOf(Path stat) throws IOException {
        return niceOf(Files.readString(stat));
    }

    /** Field 19 of {@code /proc/<pid>/stat}; the fields after the name start at field 3. */
    private static int niceOf(String stat) {
        var fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        return Integer.parseInt(fields[19 - 3]);
    }
}
