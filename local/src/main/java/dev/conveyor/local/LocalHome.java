package dev.conveyor.local;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Whether {@code --home} is {@code local}'s to wipe. Each start deletes its {@code logs} and the data under
 * {@code data}: a directory of the user's ({@code --home=.} in a project that has a {@code logs} directory,
 * {@code --home=$HOME}) lost those. A home is {@code local}'s when it bears its mark, or an earlier version's lock
 * file, or when it has neither {@code logs} nor {@code data} yet (then it is marked).
 */
final class LocalHome {

    /** The file that marks a directory as {@code local}'s home. */
    static final String MARK = ".conveyor-local-home";
    private static final String EARLIER_LOCK = "lock";

    private LocalHome() {
    }

    /** Marks {@code home} as local's, or answers why it may not be: what in it local would delete. */
    static Optional<String> claim(Path home) throws IOException {
        Files.createDirectories(home);
        var mark = home.resolve(MARK);
        if (!Files.exists(mark) && !Files.exists(home.resolve(EARLIER_LOCK))) {
            for (var wiped : new String[] {"logs", "data"}) {
                if (Files.exists(home.resolve(wiped))) {
                    return Optional.of(home.resolve(wiped).toAbsolutePath() + " is there, and conveyor-local did not "
                            + "make it: it deletes its home's logs and data at every start. Choose a new or empty "
                            + "directory with --home=DIR");
                }
            }
        }
        if (!Files.exists(mark)) {
            Files.writeString(mark, "conveyor-local deletes logs/ and data/ here at every start\n");
        }
        return Optional.empty();
    }

    /** What went wrong with a file of the home, in words: {@code NoSuchFileException}'s message is a bare path. */
    static String problem(IOException e) {
        return switch (e) {
            case NoSuchFileException missing -> missing.getFile() + ": no such file or directory";
            case AccessDeniedException denied -> denied.getFile() + ": permission denied";
            case FileSystemException other when other.getReason() != null ->
                    (other.getFile() == null ? "" : other.getFile() + ": ") + other.getReason();
            default -> e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        };
    }
}
