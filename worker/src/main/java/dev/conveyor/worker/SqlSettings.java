package dev.conveyor.worker;

import static dev.conveyor.worker.WorkerProperties.require;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Settings of the built-in {@code sql} handler, under {@code conveyor.worker.sql}. The handler exists only when
 * {@code url} is set: it runs the named statements, and nothing else, on a pool of its own.
 *
 * @param url            JDBC URL of the database that {@code sql} jobs work on (not Conveyor's own)
 * @param username       user for that database
 * @param password       password for that database
 * @param poolSize       connections in the pool; also the most {@code sql} jobs running at once on this worker
 * @param connectTimeout how long opening one connection may take
 * @param maxRows        most rows a query answers; more is a failure, not a silent cut
 * @param statements     the statements jobs may run, by name: SQL with {@code :named} parameters and whether it is
 *                       a {@code query} (answers rows) or an {@code update} (answers a count)
 */
public record SqlSettings(
        String url,
        String username,
        String password,
        @DefaultValue("10") int poolSize,
        @DefaultValue("10s") Duration connectTimeout,
        @DefaultValue("1000") int maxRows,
        Map<String, Statement> statements) {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");

    public SqlSettings {
        statements = statements == null ? Map.of() : Map.copyOf(statements);
        require(enabled(url) || statements.isEmpty(), "conveyor.worker.sql.statements are named, but "
                + "conveyor.worker.sql.url is not set: name the database they run on");
        require(poolSize >= 1, "conveyor.worker.sql.pool-size must be at least 1");
        require(connectTimeout.toMillis() >= 250, "conveyor.worker.sql.connect-timeout must be at least 250ms");
        require(maxRows >= 1, "conveyor.worker.sql.max-rows must be at least 1");
        statements.forEach((name, statement) -> {
            require(NAME.matcher(name).matches(), "conveyor.worker.sql.statements: '" + name
                    + "' is not a statement name ([A-Za-z0-9][A-Za-z0-9._-]{0,99})");
            require(statement != null && statement.sql() != null && !statement.sql().isBlank(),
                    "conveyor.worker.sql.statements." + name + ".sql must be set");
        });
    }

    /** Shows the settings with the password, and any password inside the URL, masked. */
    @Override
    public String toString() {
        return "SqlSettings[url=" + Secrets.url(url) + ", username=" + username + ", password="
                + (password == null || password.isEmpty() ? password : Secrets.MASK) + ", poolSize=" + poolSize
                + ", connectTimeout=" + connectTimeout + ", maxRows=" + maxRows + ", statements=" + statements + "]";
    }

    /** No {@code sql} handler. */
    public static SqlSettings off() {
        return new SqlSettings(null, null, null, 10, Duration.ofSeconds(10), 1000, Map.of());
    }

    /** Whether this worker runs {@code sql} jobs. */
    public boolean enabled() {
        return enabled(url);
    }

    private static boolean enabled(String url) {
        return url != null && !url.isBlank();
    }

    /**
     * One named statement.
     *
     * @param sql  the SQL, with {@code :name} placeholders bound from the job's {@code params}
     * @param kind {@code query} (default) or {@code update}
     */
    public record Statement(String sql, Kind kind) {

        public Statement {
            kind = kind == null ? Kind.QUERY : kind;
        }
    }

    /** What a statement answers: rows, or a count of changed rows. */
    public enum Kind {
        QUERY, UPDATE;

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
