package dev.conveyor.api;

import java.sql.SQLException;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.callback.Context;
import org.flywaydb.core.api.callback.Event;
import org.springframework.stereotype.Component;

/**
 * Bounds how long each migration at start waits for a lock ({@code conveyor.api.migration-lock-timeout}). During an
 * upgrade the apis of the old version go on writing to {@code jobs}; a migration that alters it waits for their open
 * transactions, and while it waits every later statement on the table queues behind it: submissions, dispatch and
 * outcomes of the whole system stood still for as long as one old transaction lasted. Given up, the migration is
 * rolled back and the api does not start ({@link MigrationLockFailure} says why); its next start tries again.
 *
 * <p>Set per migration, in its own transaction ({@code SET LOCAL}), so that the pool's connections keep no timeout
 * of the migrations. A migration outside a transaction (an index built or dropped {@code CONCURRENTLY}) is left to
 * wait: it holds no lock that the job flow waits for, and one given up would leave an invalid index behind.
 */
@Component
class MigrationLocks implements Callback {

    private final long timeoutMillis;

    MigrationLocks(ApiProperties properties) {
        this.timeoutMillis = properties.migrationLockTimeout().toMillis();
    }

    @Override
    public boolean supports(Event event, Context context) {
        return event == Event.BEFORE_EACH_MIGRATE;
    }

    @Override
    public boolean canHandleInTransaction(Event event, Context context) {
        return true;
    }

    @Override
    public void handle(Event event, Context context) {
        try {
            var connection = context.getConnection();
            if (connection.getAutoCommit()) {
                return;
            }
            try (var statement = connection.prepareStatement("SELECT set_config('lock_timeout', ?, true)")) {
                statement.setString(1, timeoutMillis + "ms");
                statement.execute();
            }
        } catch (SQLException e) {
            throw new FlywayException("Could not set the migration's lock_timeout", e);
        }
    }

    @Override
    public String getCallbackName() {
        return "conveyor-migration-lock-timeout";
    }
}
