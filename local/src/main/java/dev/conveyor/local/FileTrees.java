package dev.conveyor.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/** Deleting directory trees, which the JDK has no one-liner for. */
final class FileTrees {

    private FileTrees() {
    }

    /** Deletes {@code root} and everything under it; nothing happens when it does not exist. */
    static void delete(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            for (var path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
