package dev.conveyor.local;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;

/**
 * Builds the command line of a child JVM that runs a main class from this launcher's own classes:
 * through Spring Boot's {@code PropertiesLauncher} when running from the repackaged jar, or with the
 * plain class path otherwise (IDE, tests).
 *
 * @param java the java binary to use
 * @param classPath the class path of the child
 * @param repackagedJar whether {@code classPath} is the Spring Boot repackaged {@code conveyor-local.jar}
 */
record JavaLauncher(Path java, String classPath, boolean repackagedJar) {

    static final String PROPERTIES_LAUNCHER = "org.springframework.boot.loader.launch.PropertiesLauncher";

    /** The launcher for this JVM: same java binary, same class path. */
    static JavaLauncher current() {
        var java = ProcessHandle.current().info().command().map(Path::of)
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java"));
        var classPath = System.getProperty("java.class.path");
        return new JavaLauncher(java, classPath, isRepackagedJar(classPath));
    }

    /**
     * The command that runs {@code mainClass} with the given JVM options and program arguments, through
     * {@link Tether}: the process ends when this one does.
     */
    List<String> command(String mainClass, List<String> jvmOptions, List<String> args) {
        var command = new ArrayList<String>();
        command.add(java.toString());
        command.addAll(jvmOptions);
        command.add("-D" + Tether.PARENT + "=" + ProcessHandle.current().pid());
        command.add("-cp");
        command.add(classPath);
        if (repackagedJar) {
            command.add("-Dloader.main=" + Tether.class.getName());
            command.add(PROPERTIES_LAUNCHER);
        } else {
            command.add(Tether.class.getName());
        }
        command.add(mainClass);
        command.addAll(args);
        return command;
    }

    static boolean isRepackagedJar(String classPath) {
        if (classPath == null || classPath.contains(File.pathSeparator) || !classPath.endsWith(".jar")) {
            return false;
        }
        var jar = Path.of(classPath);
        if (!Files.isRegularFile(jar)) {
            return false;
        }
        try (var file = new JarFile(jar.toFile())) {
            var manifest = file.getManifest();
            return manifest != null && manifest.getMainAttributes().getValue("Spring-Boot-Version") != null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + jar, e);
        }
    }
}
