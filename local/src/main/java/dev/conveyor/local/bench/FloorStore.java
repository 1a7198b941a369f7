package dev.conveyor.local.bench;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The bare path's job table, {@code bench_floor.jobs}, in the system's database but apart from Conveyor's tables: the
 * least a durable job queue stores per job (id, queue, payload, status, result and three times), with its primary key
 * as its only index. Every statement runs in a transaction of its own (autocommit), as a request's would.
 */
final class FloorStore {

    static final String SCHEMA = "bench_floor";

    private static final String CREATE = """
            CREATE SCHEMA IF NOT EXISTS bench_floor;
            CREATE TABLE IF NOT EXISTS bench_floor.jobs (
                id          uuid PRIMARY KEY,
                queue       text NOT NULL,
                payload     jsonb NOT NULL,
                status      text NOT NULL CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED')),
                result      jsonb,
                created_at  timestamptz NOT NULL,
                started_at  timestamptz,
                finished_at timestamptz
            )""";
    private static final String TRUNCATE = "TRUNCATE bench_floor.jobs";
    private static final String INSERT_MANY = """
            INSERT INTO bench_floor.jobs (id, queue, payload, status, created_at)
            SELECT u.id, 'default', u.payload::jsonb, 'QUEUED', now()
            FROM unnest(?::uuid[], ?::text[]) AS u(id, payload)""";
    private static final String INSERT_ONE = """
            INSERT INTO bench_floor.jobs (id, queue, payload, status, created_at)
            VALUES (?, 'default', ?::jsonb, 'QUEUED', now())""";
    /**
     * By primary key ({@code = ANY}), not joined with {@code unnest}: joined, on a table emptied by {@code TRUNCATE}
     * at the start of the run, PostgreSQL alone's batches made 1,420 rows/s at 0.71 ms of PostgreSQL's CPU per row
     * (a plan made while the table looked empty, we take it); by key, 35,000-40,000 rows/s at 0.02-0.03 ms.
     */
    private static final String START = """
            UPDATE bench_floor.jobs SET status = 'RUNNING', started_at = now()
            WHERE id = ANY(?::uuid[]) AND status = 'QUEUED'""";
    /** Guarded: a result delivered twice (Kafka delivers at least once) ends nothing the second time. */
    private static final String END = """
            UPDATE bench_floor.jobs j SET status = 'SUCCEEDED', result = u.result::jsonb, finished_at = now()
            FROM unnest(?::uuid[], ?::text[]) AS u(id, result)
            WHERE j.id = u.id AND j.status IN ('QUEUED', 'RUNNING')
            RETURNING j.id""";
    private static final String COUNT_ENDED = "SELECT count(*) FROM bench_floor.jobs WHERE status = 'SUCCEEDED'";

    private final DataSource dataSource;

    FloorStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Creates the table if missing and empties it: each run starts from an empty table. */
    void reset() {
        try (var connection = dataSource.getConnection(); var statement = connection.createStatement()) {
            statement.execute(CREATE);
            statement.execute(TRUNCATE);
        } catch (SQLException e) {
            throw failed("cannot prepare " + SCHEMA + ".jobs", e);
        }
    }

    /** Inserts many jobs with one statement, in one transaction. */
    void insert(Connection connection, UUID[] ids, String[] payloads) throws SQLException {
        try (var statement = connection.prepareStatement(INSERT_MANY)) {
            statement.setArray(1, connection.createArrayOf("uuid", ids));
            statement.setArray(2, connection.createArrayOf("text", payloads));
            check(statement.executeUpdate(), ids.length, "inserted");
        }
    }

    /** Inserts one job in a transaction of its own, as one {@code POST /v1/jobs} would. */
    void insert(Connection connection, UUID id, String payload) throws SQLException {
        try (var statement = connection.prepareStatement(INSERT_ONE)) {
            statement.setObject(1, id);
            statement.setString(2, payload);
            check(statement.executeUpdate(), 1, "inserted");
        }
    }

    /** Marks queued jobs running, in one statement. */
    void start(Connection connection, UUID[] ids) throws SQLException {
        try (var statement = connection.prepareStatement(START)) {
            statement.setArray(1, connection.createArrayOf("uuid", ids));
            check(statement.executeUpdate(), ids.length, "started");
        }
    }

    /** Stores the results of jobs not yet ended, in one statement; answers the jobs that ended now. */
    List<UUID> end(Connection connection, UUID[] ids, String[] results) throws SQLException {
        try (var statement = connection.prepareStatement(END)) {
            statement.setArray(1, connection.createArrayOf("uuid", ids));
            statement.setArray(2, connection.createArrayOf("text", results));
            var ended = new ArrayList<UUID>(ids.length);
            try (var rows = statement.executeQuery()) {
                while (rows.next()) {
                    ended.add(rows.getObject(1, UUID.class));
                }
            }
            return ended;
        }
    }

    /** How many jobs of the table have ended. */
    long countEnded() {
        try (var connection = dataSource.getConnection(); var statement = connection.createStatement();
             var rows = statement.executeQuery(COUNT_ENDED)) {
            rows.next();
            return rows.getLong(1);
        } catch (SQLException e) {
            throw failed("cannot count the ended jobs", e);
        }
    }

    private static void check(int rows, int expected, String what) {
        if (rows != expected) {
            throw new IllegalStateException(what + " " + rows + " rows instead of " + expected);
        }
    }

    static IllegalStateException failed(String what, SQLException e) {
        return new IllegalStateException(what + ": " + e.getMessage(), e);
    }
}
