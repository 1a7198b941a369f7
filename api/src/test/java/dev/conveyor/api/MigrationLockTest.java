package dev.conveyor.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.test.TestPostgres;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * An upgrade ("Upgrade the api" in the README): the new api migrates while apis of the old version go on serving.
 * A migration that runs longer than a transaction of the api may stay idle is recorded with its changes.
 */
class MigrationLockTest {

    @Test
    void aMigrationLongerThanAnIdleTransactionMayLastIsRecorded() {
        var url = runningVersion();
        try (var api = ApiTests.startOn(url,
                "--spring.flyway.locations=classpath:db/migration,classpath:db/upgrade-test/slow",
                "--spring.datasource.hikari.connection-init-sql=SET idle_in_transaction_session_timeout = '1s'")) {
            assertThat(JdbcClient.create(api.getBean(DataSource.class))
                    .sql("SELECT success FROM flyway_schema_history WHERE version = '13'").query(Boolean.class)
                    .optional()).as("V13, recorded as applied").contains(true);
        }
    }

    /** A database as the version running before the upgrade left it: the released migrations, V1 to V12. */
    private static String runningVersion() {
        var url = TestPostgres.newDatabase();
        Flyway.configure().dataSource(url, "postgres", "").load().migrate();
        return url;
    }
}
