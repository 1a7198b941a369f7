package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SmallInliningTest {

    /**
     * The api and the worker start with these options: an option this JDK did not know, or knew only behind
     * -XX:+UnlockDiagnosticVMOptions, would stop them at their start.
     */
    @Test
    void theApisAndWorkersInliningOptionsAreProductOptionsThisJdkApplies() throws IOException, InterruptedException {
        assertThat(flagsSetBy(LocalSystem.SMALL_INLINING))
                .anyMatch(line -> line.matches("intx FreqInlineSize\\s+= 50\\s.*"))
                .anyMatch(line -> line.matches("intx InlineSmallCode\\s+= 500\\s.*"));
    }

    /** A user's {@code --worker-java-option} comes after local's own options, so the JVM keeps the user's. */
    @Test
    void aUsersJavaOptionsComeLastAndWin() throws IOException, InterruptedException {
        var options = LocalSystem.childOptions(List.of("-XX:+UseCompactObjectHeaders"), List.of(), "512m",
                List.of("-Xmx1g", "-XX:FreqInlineSize=325"));
        assertThat(options).endsWith("-Xmx1g", "-XX:FreqInlineSize=325").contains("-Xmx512m");

        assertThat(flagsSetBy(options))
                .anyMatch(line -> line.matches("size_t MaxHeapSize\\s+= 1073741824\\s.*"))
                .anyMatch(line -> line.matches("intx FreqInlineSize\\s+= 325\\s.*"))
                .anyMatch(line -> line.matches("intx InlineSmallCode\\s+= 500\\s.*"));
    }

    /** The flags a JVM started with {@code options} took from its command line, as it prints them. */
    private static List<String> flagsSetBy(List<String> options) throws IOException, InterruptedException {
        var command = new ArrayList<>(List.of(JavaLauncher.current().java().toString()));
        command.addAll(options);
        command.addAll(List.of("-XX:+PrintFlagsFinal", "-version"));
        var process = new ProcessBuilder(command).redirectErrorStream(true).start();
        var output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
        return output.lines().filter(line -> line.contains("{command line}")).map(String::strip).toList();
    }
}
