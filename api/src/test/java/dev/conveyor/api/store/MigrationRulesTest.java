package dev.conveyor.api.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's rules for new migrations ("Upgrade the api"), as far as text shows them: an index is built and dropped
 * {@code CONCURRENTLY}, alone in its migration, so that an upgrade over a large jobs table does not hold every write
 * for the build's time; and none sets a timeout of its own, which would undo the bound on its waits for locks
 * ({@code MigrationLocks}). The migrations released before the rules (V1 to V12) are as they were: Flyway checks them.
 */
class MigrationRulesTest {

    private static final Path MIGRATIONS = Path.of("src/main/resources/db/migration");
    private static final int LAST_BEFORE_THE_RULES = 12;
    private static final Pattern VERSION = Pattern.compile("V(\\d+)__.+\\.sql");
    private static final Pattern TIMEOUT = Pattern.compile("(?i)\\b(lock_timeout|statement_timeout)\\b");
    private static final Pattern INDEX = Pattern.compile("(?i)\\b(CREATE\\s+(UNIQUE\\s+)?INDEX|DROP\\s+INDEX|REINDEX)\\b"
            + "(\\s+CONCURRENTLY)?");

    @Test
    void newMigrationsBuildAndDropIndexesConcurrentlyEachAlone() throws IOException {
        for (var file : newMigrations()) {
            var sql = Files.readString(file).replaceAll("--[^\n]*", "");
            var matcher = INDEX.matcher(sql);
            var indexes = 0;
            while (matcher.find()) {
                indexes++;
                assertThat(matcher.group(3)).as("%s: %s without CONCURRENTLY", file.getFileName(), matcher.group(1))
                        .isNotNull();
            }
            if (indexes > 0) {
                assertThat(sql.strip().split(";\\s*")).as("%s: an index statement alone", file.getFileName())
                        .hasSize(1);
            }
        }
    }

    @Test
    void newMigrationsSetNoTimeoutOfTheirOwn() throws IOException {
        for (var file : newMigrations()) {
            var sql = Files.readString(file).replaceAll("--[^\n]*", "");
            assertThat(TIMEOUT.matcher(sql).results().map(MatchResult::group).toList())
                    .as("%s: a timeout of its own", file.getFileName()).isEmpty();
        }
        assertThat(TIMEOUT.matcher("SET LOCAL lock_timeout = 0;").find()).isTrue();
    }

    @Test
    void theRulesRecogniseAnIndexBuiltTheOldWay() {
        assertThat(INDEX.matcher("create unique index jobs_x on jobs (a)").results().map(r -> r.group(3)))
                .containsExactly((String) null);
        assertThat(INDEX.matcher("CREATE INDEX CONCURRENTLY IF NOT EXISTS jobs_x ON jobs (a)").results()
                .map(r -> r.group(3).strip())).containsExactly("CONCURRENTLY");
        assertThat(version(MIGRATIONS.resolve("V7__ended_index.sql"))).isEqualTo(7);
    }

    /** The migrations after V12. */
    private static List<Path> newMigrations() throws IOException {
        List<Path> migrations;
        try (var files = Files.list(MIGRATIONS)) {
            migrations = files.filter(f -> version(f) > 0).toList();
        }
        assertThat(migrations).as("the migrations, found").hasSizeGreaterThanOrEqualTo(LAST_BEFORE_THE_RULES);
        return migrations.stream().filter(f -> version(f) > LAST_BEFORE_THE_RULES).toList();
    }

    private static int version(Path file) {
        var matcher = VERSION.matcher(file.getFileName().toString());
        return matcher.matches() ? Integer.parseInt(matcher.group(1)) : 0;
    }
}
