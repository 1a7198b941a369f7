package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JavaLauncherTest {

    @TempDir
    Path dir;

    @Test
    void runsAMainClassFromAPlainClassPathDirectly() {
        var launcher = new JavaLauncher(Path.of("/jdk/bin/java"), "a.jar" + File.pathSeparator + "classes", false);

        assertThat(launcher.command("x.Main", List.of("-Dk=v"), List.of("--a=b")))
                .containsExactly("/jdk/bin/java", "-Dk=v", "-Dconveyor.local.parent=" + ProcessHandle.current().pid(), "-cp",
                        "a.jar" + File.pathSeparator + "classes", "dev.conveyor.local.Tether", "x.Main", "--a=b");
    }

    @Test
    void runsAMainClassFromTheRepackagedJarThroughPropertiesLauncher() {
        var launcher = new JavaLauncher(Path.of("/jdk/bin/java"), "conveyor-local.jar", true);

        assertThat(launcher.command("x.Main", List.of(), List.of("--a=b"))).containsExactly("/jdk/bin/java",
                "-Dconveyor.local.parent=" + ProcessHandle.current().pid(), "-cp", "conveyor-local.jar",
                "-Dloader.main=dev.conveyor.local.Tether", "org.springframework.boot.loader.launch.PropertiesLauncher",
                "x.Main", "--a=b");
    }

    @Test
    void recognisesTheRepackagedJarByItsManifest() throws IOException {
        var boot = jar("boot.jar", "Spring-Boot-Version", "4.1.2");
        var plain = jar("plain.jar", "Implementation-Title", "x");

        assertThat(JavaLauncher.isRepackagedJar(boot.toString())).isTrue();
        assertThat(JavaLauncher.isRepackagedJar(plain.toString())).isFalse();
        assertThat(JavaLauncher.isRepackagedJar(boot + File.pathSeparator + plain)).isFalse();
        assertThat(JavaLauncher.isRepackagedJar(dir.toString())).isFalse();
    }

    @Test
    void usesThisJvmsJavaAndClassPath() {
        var launcher = JavaLauncher.current();

        assertThat(launcher.java()).isExecutable();
        assertThat(launcher.classPath()).isEqualTo(System.getProperty("java.class.path"));
        assertThat(launcher.repackagedJar()).isFalse();
    }

    private Path jar(String name, String attribute, String value) throws IOException {
        var manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().putValue(attribute, value);
        var jar = dir.resolve(name);
        try (var out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            out.flush();
        }
        return jar;
    }
}
