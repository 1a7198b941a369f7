package dev.conveyor.worker.sql;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.common.handler.JobHandler;
import dev.conveyor.common.message.JobError;
import dev.conveyor.worker.SqlSettings;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import tools.jackson.databind.JsonNode;

/**
 * {@code sql}: runs one of the statements named in {@code conveyor.worker.sql.statements} with the job's
 * {@code params} bound, never SQL from the job. A semaphore as large as the pool stands in front of it, so jobs
 * beyond the pool wait on their virtual threads, within their deadline, and the pool never has a queue of its own.
 * A job stopped by its deadline or a cancel has its statement cancelled on the server ({@link ServerCancel}).
 */
final class SqlJobHandler implements JobHandler {

    /** The worker's code for a result that cannot be stored ({@code JobOutcomes}): not retryable. */
    private static final String RESULT_INVALID = "RESULT_INVALID";

    private final SqlSettings settings;
    private final DataSource pool;
    private final Map<String, Prepared> statements;
    private final Semaphore connections;
    private final long readLimit;

    /** A configured statement, parsed once. */
    record Prepared(String name, NamedSql sql, SqlSettings.Kind kind) {
    }

    SqlJobHandler(SqlSettings settings, DataSource pool, long readLimit) {
        this.settings = settings;
        this.pool = pool;
        this.readLimit = readLimit;
        this.statements = settings.statements().entrySet().stream().collect(Collectors.toUnmodifiableMap(
                Map.Entry::getKey, e -> new Prepared(e.getKey(), NamedSql.parse(e.getValue().sql()),
                        e.getValue().kind())));
        this.connections = new Semaphore(settings.poolSize(), true);
    }

    /**
     * The most bytes of column values a statement may answer, for a worker whose results may be
     * {@code maxResultBytes} encoded: twice that, since a value can shrink on its way into JSON (a {@code bigint}
     * read in binary is 8 bytes, {@code "n":0} fewer), yet never by half but where a {@code json} column holds
     * spaces. A statement that answers more could not be stored anyway.
     */
    static long readLimit(int maxResultBytes) {
        return 2L * maxResultBytes;
    }

    @Override
    public String type() {
        return "sql";
    }

    @Override
    public JsonNode handle(JobContext context) throws InterruptedException {
        var call = SqlCall.from(context.payload(), statements);
        if (!connections.tryAcquire(context.remaining().toNanos(), TimeUnit.NANOSECONDS)) {
            throw JobFailure.retryable("no connection of the sql pool (conveyor.worker.sql.pool-size="
                    + settings.poolSize() + ") came free before the attempt's deadline");
        }
        try (var connection = pool.getConnection()) {
            return run(connection, call, context);
        } catch (SQLException e) {
            if (overRead(e)) {
                throw new JobFailure(JobError.RESULT_TOO_LARGE, "statement '" + call.statement().name()
                        + "' answered more than " + readLimit + " bytes of values, twice the most a result may take "
                        + "encoded (conveyor.worker.max-result-bytes); narrow it or page it", false, null, null);
            }
            throw SqlErrors.failure(call.statement().name(), e, settings.password());
        } finally {
            connections.release();
        }
    }

    private JsonNode run(Connection connection, SqlCall call, JobContext context)
            throws SQLException, InterruptedException {
        var statement = call.statement();
        try (var prepared = connection.prepareStatement(statement.sql().jdbcSql())) {
            var names = statement.sql().parameterNames();
            for (var i = 0; i < names.size(); i++) {
                SqlValues.bind(prepared, i + 1, call.params().get(names.get(i)));
            }
            // The deadline's interrupt cancels the statement on the server (ServerCancel). This whole-second timeout,
            // due up to a second after the deadline, stops it too when the handler runs without that interrupt.
            prepared.setQueryTimeout((int) Math.max(1, Math.ceilDiv(context.remaining().toMillis(), 1000)));
            return ServerCancel.run(connection, prepared, () -> statement.kind() == SqlSettings.Kind.UPDATE
                    ? Json.object().put("updated", prepared.executeLargeUpdate())
                    : query(prepared, statement.name()), settings.connectTimeout());
        }
    }

    private JsonNode query(PreparedStatement prepared, String name) throws SQLException {
        prepared.setMaxRows(settings.maxRows() + 1);
        var result = Json.object();
        var rows = result.putArray("rows");
        try (var resultSet = prepared.executeQuery()) {
            var meta = resultSet.getMetaData();
            while (resultSet.next()) {
                if (rows.size() == settings.maxRows()) {
                    throw JobFailure.notRetryable("statement '" + name + "' answered more than "
                            + settings.maxRows() + " rows (conveyor.worker.sql.max-rows); narrow it or page it");
                }
                var row = rows.addObject();
                for (var column = 1; column <= meta.getColumnCount(); column++) {
                    var label = meta.getColumnLabel(column);
                    try {
                        row.set(label, SqlValues.read(resultSet, column));
                    } catch (SqlValues.UnreadableJson e) {
                        // the same row answers the same on every attempt: as a result that cannot be stored
                        throw new JobFailure(RESULT_INVALID, "result.rows[" + (rows.size() - 1) + "]." + label + " "
                                + e.getMessage() + ": column " + label + " of statement '" + name
                                + "' holds JSON that cannot be stored", false, null, null);
                    }
                }
            }
        }
        result.put("rowCount", rows.size());
        return result;
    }

    /**
     * Whether {@code e} is pgjdbc's refusal to read past {@code maxResultBuffer}: a connection error without a cause
     * (a broken connection has its {@code IOException}) whose message, in any of the driver's languages, names the
     * limit.
     */
    private boolean overRead(SQLException e) {
        var state = e.getSQLState();
        return state != null && state.startsWith("08") && e.getCause() == null && e.getMessage() != null
                && e.getMessage().contains(Long.toString(readLimit));
    }

    /** The names of the configured statements, for messages. */
    static Set<String> names(Map<String, Prepared> statements) {
        return new TreeMap<>(statements).keySet();
    }
}
