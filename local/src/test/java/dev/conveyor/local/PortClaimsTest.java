package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The api ports claimed among the launchers of the machine, and their lock files. */
class PortClaimsTest {

    @TempDir
    Path dir;

    private final List<ChildProcess> holders = new ArrayList<>();

    @AfterEach
    void stopHolders() {
        holders.forEach(ChildProcess::kill);
    }

    @Test
    void deletesItsLockFilesAsItLetsThePortsGo() {
        var claims = PortClaims.claim(dir, List.of(8080, 8081));
        assertThat(claims.taken()).isEmpty();
        assertThat(PortClaims.file(dir, 8080)).exists();

        claims.close();

        assertThat(PortClaims.file(dir, 8080)).doesNotExist();
        assertThat(PortClaims.file(dir, 8081)).doesNotExist();
        assertThat(dir.resolve(PortClaims.GUARD)).as("the guard stays").exists();
        try (var again = PortClaims.claim(dir, List.of(8080))) {
            assertThat(again.taken()).isEmpty();
        }
    }

    @Test
    void refusesAPortThatAnotherLauncherHoldsAndLeavesItsFileAlone() {
        hold(PortClaims.file(dir, 8081), false);

        var claims = PortClaims.claim(dir, List.of(8080, 8081));
        assertThat(claims.taken()).contains(8081);
        claims.close();

        assertThat(PortClaims.file(dir, 8081)).exists();
        try (var again = PortClaims.claim(dir, List.of(8081))) {
            assertThat(again.taken()).as("still held by the other").contains(8081);
        }
    }

    /** A launcher deleting its lock files holds the guard exclusive; a claim waits for it (here, in vain: it is held). */
    @Test
    void aClaimWaitsWhileAnotherLauncherDeletesItsLockFiles() {
        hold(dir.resolve(PortClaims.GUARD), false);
        var patience = Duration.ofMillis(300);

        var started = System.nanoTime();
        try (var claims = PortClaims.claim(dir, List.of(8080), patience)) {
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(patience);
            assertThat(claims.taken()).as("claimed without the guard in the end").isEmpty();
        }
        assertThat(PortClaims.file(dir, 8080)).as("not deleted without the guard").exists();
    }

    /**
     * A launcher that has opened a lock file and not yet locked it (it holds the guard shared meanwhile) must not have
     * it deleted under it: it would then hold a file of no name while a third launcher made and locked a new one.
     */
    @Test
    void keepsItsLockFilesWhileAnotherLauncherIsClaimingAndLetsThePortsGoAllTheSame() {
        var claims = PortClaims.claim(dir, List.of(8080), Duration.ofMillis(200));
        hold(dir.resolve(PortClaims.GUARD), true);

        claims.close();

        assertThat(PortClaims.file(dir, 8080)).exists();
        try (var next = PortClaims.claim(dir, List.of(8080), Duration.ofMillis(200))) {
            assertThat(next.taken()).isEmpty();
        }
    }

    private void hold(Path file, boolean shared) {
        var log = dir.resolve("holder-" + holders.size() + ".log");
        var args = shared ? List.of(file.toString(), "shared") : List.of(file.toString());
        holders.add(ChildProcess.start("lock-holder", JavaLauncher.current().command(LockHolder.class.getName(),
                List.of(), args), log));
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(log) && Files.readString(log).contains("locked"));
    }
}
